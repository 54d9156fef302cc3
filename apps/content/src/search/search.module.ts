import { Module } from '@nestjs/common';
import { AuthorsModule } from '../authors/authors.module';
import { TagsModule } from '../tags/tags.module';
import { SearchEngine } from './engine/search-engine';
import { SearchIndexerService } from './engine/search-indexer.service';
import { SearchResolver } from './search.resolver';
import { SearchService } from './search.service';

@Module({ imports: [TagsModule, AuthorsModule], providers: [SearchService, SearchResolver, SearchEngine, SearchIndexerService] })
export class SearchModule {}
