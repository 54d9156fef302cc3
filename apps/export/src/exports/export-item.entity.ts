import { Field, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export enum ExportItemStatus {
  PENDING = 'PENDING',
  DONE = 'DONE',
  /** The document was deleted or became unreadable to the exporter after the export was asked for. */
  SKIPPED = 'SKIPPED',
  FAILED = 'FAILED',
}
registerEnumType(ExportItemStatus, { name: 'ExportItemStatus' });

/** A document of an export, in export order; the unit of progress, resumption and JIRA idempotency. */
@ObjectType()
@Entity('export_items')
export class ExportItem {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'export_id', type: 'uuid' })
  exportId: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Field(() => Int)
  @Column({ type: 'int' })
  position: number;

  @Field(() => ID)
  @Column({ name: 'document_id', type: 'uuid' })
  documentId: string;

  @Field()
  @Column({ type: 'text' })
  title: string;

  @Field(() => ExportItemStatus)
  @Column({ type: 'text' })
  status: ExportItemStatus;

  @Field(() => String, { nullable: true, description: 'Hex SHA-256 of its PDF in a ZIP export' })
  @Column({ type: 'text', nullable: true })
  sha256: string | null;

  @Field(() => String, { nullable: true, description: 'The JIRA issue made from it' })
  @Column({ name: 'jira_issue_key', type: 'text', nullable: true })
  jiraIssueKey: string | null;

  @Field(() => String, { nullable: true })
  @Column({ type: 'text', nullable: true })
  error: string | null;
}
