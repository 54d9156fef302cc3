import { DynamicModule, Module } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { ApolloFederationDriverConfig } from '@nestjs/apollo';
import { AuthModule } from '@multipult/auth';
import { ConfigModule } from '@multipult/config';
import { DatabaseModule } from '@multipult/database';
import { EventsModule, eventEntities, eventMigrations } from '@multipult/events';
import { subgraphGraphQLOptions } from '@multipult/graphql';
import { DatabaseProbe, FastStoreProbe, HealthModule, KafkaProbe } from '@multipult/health';
import { ObservabilityModule } from '@multipult/observability';
import { RealtimeServerModule } from '@multipult/realtime';
import { RedisModule } from '@multipult/redis';
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
        ConfigModule.forRoot(config),
        ObservabilityModule.forRoot({ service: CONTENT_SERVICE, logLevel: config.LOG_LEVEL }),
        DatabaseModule.forRoot({
          service: CONTENT_SERVICE,
          schema: 'content',
          entities: [Document, DocumentVersion, DocumentTranslation, Author, Tag, Comment, Collection, ...eventEntities],
          migrations: [...eventMigrations, ...contentMigrations],
        }),
        RedisModule.forRoot(),
        EventsModule.forRoot({ service: CONTENT_SERVICE }),
        AuthModule.forRoot(),
        GraphQLModule.forRoot<ApolloFederationDriverConfig>(
          subgraphGraphQLOptions({ production: config.NODE_ENV === 'production' }),
        ),
        HealthModule.forRoot({
          probes: [DatabaseProbe, FastStoreProbe, KafkaProbe],
          gracefulShutdownTimeoutMs: config.NODE_ENV === 'production' ? config.SHUTDOWN_GRACE_SECONDS * 1000 : 0,
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
