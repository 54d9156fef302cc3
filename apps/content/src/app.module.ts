import { DynamicModule, Module } from '@nestjs/common';
import { SubgraphModule } from '@multipult/subgraph';
import { RealtimeServerModule } from '@multipult/realtime';
import { Author } from './authors/author.entity';
import { AuthorsModule } from './authors/authors.module';
import { CacheModule } from './cache/cache.module';
import { Collection } from './collections/collection.entity';
import { CollectionsModule } from './collections/collections.module';
import { PrivacyModule } from './privacy/privacy.module';
import { Comment } from './comments/comment.entity';
import { CommentsModule } from './comments/comments.module';
import type { ContentConfig } from './config';
import { DocumentVersion } from './documents/document-version.entity';
import { Document } from './documents/document.entity';
import { DocumentsModule } from './documents/documents.module';
import { registerContentMessages } from './messages';
import { contentMigrations } from './migrations';
import { SearchModule } from './search/search.module';
import { Tag } from './tags/tag.entity';
import { TagsModule } from './tags/tags.module';
import { DocumentTranslation } from './translations/translation.entity';
import { TranslationsModule } from './translations/translations.module';
import { EngagementModule } from './engagement/engagement.module';
import { VersionsModule } from './versions/versions.module';

export const CONTENT_SERVICE = 'content';

@Module({})
export class AppModule {
  static forRoot(config: ContentConfig): DynamicModule {
    registerContentMessages();
    return {
      module: AppModule,
      imports: [
        SubgraphModule.forRoot({
          service: CONTENT_SERVICE,
          config,
          entities: [Document, DocumentVersion, DocumentTranslation, Author, Tag, Comment, Collection],
          migrations: contentMigrations,
          redis: { pubSub: true },
        }),
        CacheModule,
        AuthorsModule,
        TagsModule,
        DocumentsModule,
        TranslationsModule,
        SearchModule,
        VersionsModule,
        EngagementModule,
        CommentsModule,
        RealtimeServerModule.forRoot(),
        CollectionsModule,
        PrivacyModule,
      ],
    };
  }
}
