import { Directive, Field, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export enum DocumentType {
  ARTICLE = 'article',
  POEM = 'poem',
  PROSE = 'prose',
  CONCEPT = 'concept',
}

export enum DocumentStatus {
  DRAFT = 'draft',
  PUBLISHED = 'published',
  ARCHIVED = 'archived',
}

registerEnumType(DocumentType, { name: 'DocumentType' });
registerEnumType(DocumentStatus, { name: 'DocumentStatus' });

/** PostgreSQL text search configurations by language; languages without one (e.g. Tatar) use `simple`. */
export const SEARCH_CONFIG_BY_LANGUAGE: Record<string, string> = { en: 'english', ru: 'russian' };
export const searchConfigFor = (language: string) => SEARCH_CONFIG_BY_LANGUAGE[language] ?? 'simple';

@ObjectType({ description: 'A piece of content: article, poem, prose or concept, in Markdown' })
@Directive('@key(fields: "id")')
@Entity('documents')
export class Document {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  /** The user who created it; exposed as `owner` (a federated User). */
  @Column({ name: 'owner_id', type: 'uuid' })
  ownerId: string;

  @Field()
  @Column({ type: 'text' })
  title: string;

  @Field()
  @Column({ type: 'text' })
  summary: string;

  @Field({ description: 'Markdown' })
  @Column({ type: 'text' })
  body: string;

  @Field(() => DocumentType)
  @Column({ type: 'text' })
  type: DocumentType;

  @Field(() => DocumentStatus)
  @Column({ type: 'text' })
  status: DocumentStatus;

  @Field({ description: 'ISO 639-1 code, e.g. en, ru, tt' })
  @Column({ type: 'text' })
  language: string;

  @Column({ name: 'search_config', type: 'text' })
  searchConfig: string;

  /** Tag names, denormalized so the search vector can weight them. */
  @Column({ name: 'tag_names', type: 'text' })
  tagNames: string;

  @Field(() => Int, { description: 'Incremented by every update; see versions' })
  @Column({ type: 'int' })
  version: number;

  @Field(() => Int)
  @Column({ name: 'view_count', type: 'bigint', transformer: { to: (v: number) => v, from: (v: string) => Number(v) } })
  viewCount: number;

  @Field(() => Int)
  @Column({ name: 'like_count', type: 'bigint', transformer: { to: (v: number) => v, from: (v: string) => Number(v) } })
  likeCount: number;

  @Field(() => Date, { nullable: true })
  @Column({ name: 'published_at', type: 'timestamptz', nullable: true })
  publishedAt: Date | null;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Field()
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
