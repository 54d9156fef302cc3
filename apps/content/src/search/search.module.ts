import { Module } from '@nestjs/common';
import { SearchEngine } from './engine/search-engine';
import { SearchIndexerService } from './engine/search-indexer.service';
import { SearchResolver } from './search.resolver';
import { SearchService } from './search.service';

@Module({ providers: [SearchService, SearchResolver, SearchEngine, SearchIndexerService] })
export class SearchModule {}
