import { Field, ID, ObjectType } from '@nestjs/graphql';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@ObjectType({ description: "A document's title, summary and body in another language, by its translator" })
@Entity('document_translations')
export class DocumentTranslation {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Field(() => ID)
  @Column({ name: 'document_id', type: 'uuid' })
  documentId: string;

  @Field({ description: 'ISO 639-1 code; one translation per language, never the original language' })
  @Column({ type: 'text' })
  language: string;

  @Column({ name: 'search_config', type: 'text' })
  searchConfig: string;

  /** The translator (an Author); exposed as `translator`. */
  @Column({ name: 'translator_id', type: 'uuid', nullable: true })
  translatorId: string | null;

  @Field()
  @Column({ type: 'text' })
  title: string;

  @Field()
  @Column({ type: 'text' })
  summary: string;

  @Field({ description: 'Markdown' })
  @Column({ type: 'text' })
  body: string;

  @Column({ name: 'created_by', type: 'uuid' })
  createdBy: string;

  @Column({ name: 'updated_by', type: 'uuid' })
  updatedBy: string;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Field()
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
