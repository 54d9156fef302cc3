import { Global, Module } from '@nestjs/common';
import { DocumentCacheService } from './document-cache.service';
import { SearchCacheService } from './search-cache.service';

@Global()
@Module({ providers: [SearchCacheService, DocumentCacheService], exports: [SearchCacheService, DocumentCacheService] })
export class CacheModule {}
