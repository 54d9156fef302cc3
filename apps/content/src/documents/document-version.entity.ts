import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A snapshot of a document as one write left it. */
@ObjectType()
@Entity('document_versions')
export class DocumentVersion {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'document_id', type: 'uuid' })
  documentId: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Field(() => Int)
  @Column({ type: 'int' })
  version: number;

  @Field()
  @Column({ type: 'text' })
  title: string;

  @Field()
  @Column({ type: 'text' })
  summary: string;

  @Field()
  @Column({ type: 'text' })
  body: string;

  @Field(() => ID, { description: 'The user who made this version' })
  @Column({ name: 'changed_by', type: 'uuid' })
  changedBy: string;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
