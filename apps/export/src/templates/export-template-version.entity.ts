import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { TemplateStyles } from '@multipult/pdf';
import { ExportTemplateStyles } from './dto';

/** One version of a template; never changed once written, so an export made with it can be reproduced. */
@ObjectType()
@Entity('export_template_versions')
export class ExportTemplateVersion {
  @Field(() => ID)
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Field(() => ID)
  @Column({ name: 'template_id', type: 'uuid' })
  templateId: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Field(() => Int)
  @Column({ type: 'int' })
  version: number;

  @Field({ description: 'Handlebars producing the Markdown of the title page; empty for none' })
  @Column({ name: 'title_page', type: 'text' })
  titlePage: string;

  @Field({ description: 'Handlebars producing the line at the top of each page' })
  @Column({ type: 'text' })
  header: string;

  @Field({ description: 'Handlebars producing the line at the bottom of each page ({{page}} and {{pages}} available)' })
  @Column({ type: 'text' })
  footer: string;

  @Field(() => ExportTemplateStyles)
  @Column({ type: 'jsonb' })
  styles: TemplateStyles;

  @Field(() => ID)
  @Column({ name: 'created_by', type: 'uuid' })
  createdBy: string;

  @Field()
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
