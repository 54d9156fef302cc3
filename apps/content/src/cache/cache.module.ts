import { Global, Module } from '@nestjs/common';
import { SearchCacheService } from './search-cache.service';

@Global()
@Module({ providers: [SearchCacheService], exports: [SearchCacheService] })
export class CacheModule {}
