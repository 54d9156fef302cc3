import { Field, ID, ObjectType } from '@nestjs/graphql';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { DocumentSelection } from '../content/content-reader';
import { ExportFormat } from '../exports/export.entity';

/** A recurring export (e.g. a weekly digest of a collection), run as its owner at each cron time. */
@ObjectType()
@Entity('export_schedules')
export class ExportSchedule {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Field(() => ID)
  @Column({ name: 'owner_id', type: 'uuid' })
  ownerId: string;

  @Field()
  @Column({ type: 'text' })
  title: string;

  @Field({ description: 'Five-field cron, e.g. "0 8 * * 1" for Mondays at 08:00' })
  @Column({ type: 'text' })
  cron: string;

  @Field({ description: 'IANA time zone the cron is read in' })
  @Column({ name: 'time_zone', type: 'text' })
  timeZone: string;

  @Field(() => ExportFormat)
  @Column({ type: 'text' })
  format: ExportFormat;

  @Column({ type: 'jsonb' })
  selection: DocumentSelection;

  @Field(() => ID, { nullable: true, description: "Rendered with this template's latest version at each run" })
  @Column({ name: 'template_id', type: 'uuid', nullable: true })
  templateId: string | null;

  @Field()
  @Column({ type: 'boolean' })
  enabled: boolean;

  @Field(() => Date, { nullable: true })
  @Column({ name: 'next_run_at', type: 'timestamptz', nullable: true })
  nextRunAt: Date | null;

  @Field(() => Date, { nullable: true })
  @Column({ name: 'last_run_at', type: 'timestamptz', nullable: true })
  lastRunAt: Date | null;

  @Field(() => ID, { nullable: true })
  @Column({ name: 'last_export_id', type: 'uuid', nullable: true })
  lastExportId: string | null;

  @Field(() => String, { nullable: true, description: 'Why the last run could not start' })
  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
