import { Directive, Field, ID, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { DocumentSelection } from '../content/content-reader';

export enum ExportStatus {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}

export enum ExportFormat {
  PDF = 'pdf',
  ZIP = 'zip',
  JIRA = 'jira',
}

export const FINISHED_STATUSES = [ExportStatus.SUCCEEDED, ExportStatus.FAILED, ExportStatus.CANCELLED];

registerEnumType(ExportStatus, { name: 'ExportStatus' });
registerEnumType(ExportFormat, { name: 'ExportFormat', description: 'PDF: one file; ZIP: a PDF per document with a SHA-256 manifest; JIRA: an issue per document' });

export interface WatermarkSettings {
  text?: string;
  /** Base64 PNG or JPEG. */
  image?: string;
  opacity: number;
  rotationDegrees: number;
}

/** One export: what was asked, how it went, and the file it produced. */
@ObjectType({ description: 'An export of documents to PDF, ZIP or JIRA, run as a durable job' })
@Directive('@key(fields: "id")')
@Entity('exports')
export class Export {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Field(() => ID, { description: 'The user who asked for it, whose read rights it has' })
  @Column({ name: 'owner_id', type: 'uuid' })
  ownerId: string;

  @Field()
  @Column({ type: 'text' })
  title: string;

  @Field(() => ExportFormat)
  @Column({ type: 'text' })
  format: ExportFormat;

  @Field(() => ExportStatus)
  @Column({ type: 'text' })
  status: ExportStatus;

  @Field(() => Int, { description: '0 to 100' })
  @Column({ type: 'int' })
  progress: number;

  @Field({ description: 'What the export is doing now, or why it stopped' })
  @Column({ name: 'progress_message', type: 'text' })
  progressMessage: string;

  @Column({ type: 'jsonb' })
  selection: DocumentSelection;

  @Field(() => ID, { nullable: true, description: 'The template version it was rendered with; null for the built-in template' })
  @Column({ name: 'template_version_id', type: 'uuid', nullable: true })
  templateVersionId: string | null;

  @Column({ type: 'jsonb', nullable: true })
  watermark: WatermarkSettings | null;

  @Field({ description: 'Each PDF download is stamped with who downloaded it and when' })
  @Column({ name: 'recipient_watermark', type: 'boolean' })
  recipientWatermark: boolean;

  @Field(() => ID, { nullable: true })
  @Column({ name: 'jira_connection_id', type: 'uuid', nullable: true })
  jiraConnectionId: string | null;

  @Field(() => Int)
  @Column({ name: 'item_count', type: 'int' })
  itemCount: number;

  @Field(() => Int, { description: 'Documents done so far' })
  @Column({ name: 'done_count', type: 'int' })
  doneCount: number;

  @Column({ name: 'job_id', type: 'text', nullable: true })
  jobId: string | null;

  @Field(() => ID, { nullable: true, description: 'The schedule that started it, if any' })
  @Column({ name: 'schedule_id', type: 'uuid', nullable: true })
  scheduleId: string | null;

  @Column({ name: 'file_key', type: 'text', nullable: true })
  fileKey: string | null;

  @Field(() => String, { nullable: true })
  @Column({ name: 'file_name', type: 'text', nullable: true })
  fileName: string | null;

  @Field(() => Int, { nullable: true })
  @Column({ name: 'file_size', type: 'bigint', nullable: true, transformer: { to: (v: number | null) => v, from: (v: string | null) => (v === null ? null : Number(v)) } })
  fileSize: number | null;

  @Field(() => String, { nullable: true, description: 'Hex SHA-256 of the file' })
  @Column({ name: 'file_sha256', type: 'text', nullable: true })
  fileSha256: string | null;

  @Field(() => Date, { nullable: true, description: 'When the file stops being downloadable and is deleted' })
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  @Field(() => Date, { nullable: true, description: 'Set when the retention job deleted the file' })
  @Column({ name: 'file_deleted_at', type: 'timestamptz', nullable: true })
  fileDeletedAt: Date | null;

  @Field(() => String, { nullable: true, description: 'Why it failed: a stable code' })
  @Column({ name: 'error_code', type: 'text', nullable: true })
  errorCode: string | null;

  @Field(() => Int)
  @Column({ type: 'int' })
  attempts: number;

  @Field(() => Date, { nullable: true })
  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Field(() => Date, { nullable: true })
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
