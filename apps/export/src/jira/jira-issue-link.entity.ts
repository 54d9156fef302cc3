import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** The JIRA issue an export item became through a connection; its status follows JIRA's webhooks. */
@Entity('jira_issue_links')
export class JiraIssueLink {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'tenant_id', type: 'uuid' })
  tenantId: string;

  @Column({ name: 'connection_id', type: 'uuid' })
  connectionId: string;

  @Column({ name: 'export_item_id', type: 'uuid' })
  exportItemId: string;

  @Column({ name: 'document_id', type: 'uuid' })
  documentId: string;

  @Column({ name: 'issue_key', type: 'text' })
  issueKey: string;

  @Column({ name: 'issue_id', type: 'text' })
  issueId: string;

  @Column({ type: 'text', nullable: true })
  status: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
