import { z } from 'zod';
import { defineEvent } from '../event-contract';

/** Events published by the export service. */

export const EXPORT_FORMATS = ['pdf', 'zip', 'jira'] as const;

const exportFacts = z.object({
  exportId: z.uuid(),
  ownerId: z.uuid(),
  format: z.enum(EXPORT_FORMATS),
  title: z.string(),
});

export const ExportRequested = defineEvent({
  type: 'export.requested',
  version: 1,
  topic: 'export.export.v1',
  schema: exportFacts.extend({ itemCount: z.number().int().nonnegative(), scheduleId: z.uuid().nullable() }),
});

/** Sampled: at most one per export and second, plus the first and last. */
export const ExportProgressed = defineEvent({
  type: 'export.progress',
  version: 1,
  topic: 'export.export.v1',
  schema: exportFacts.extend({ progress: z.number().int().min(0).max(100), message: z.string() }),
});

export const ExportCompleted = defineEvent({
  type: 'export.completed',
  version: 1,
  topic: 'export.export.v1',
  schema: exportFacts.extend({
    itemCount: z.number().int().nonnegative(),
    /** The produced file, absent for JIRA exports. */
    fileName: z.string().nullable(),
    sizeBytes: z.number().int().nonnegative().nullable(),
    expiresAt: z.iso.datetime().nullable(),
  }),
});

export const ExportFailed = defineEvent({
  type: 'export.failed',
  version: 1,
  topic: 'export.export.v1',
  schema: exportFacts.extend({ errorCode: z.string(), attempts: z.number().int().positive() }),
});

export const ExportCancelled = defineEvent({
  type: 'export.cancelled',
  version: 1,
  topic: 'export.export.v1',
  schema: exportFacts.extend({ cancelledBy: z.uuid() }),
});

/** A JIRA issue created by an export changed (status, assignee…), as its webhook told us. */
export const JiraIssueUpdated = defineEvent({
  type: 'jira.issue_updated',
  version: 1,
  topic: 'export.jira.v1',
  schema: z.object({
    connectionId: z.uuid(),
    issueKey: z.string(),
    documentId: z.uuid().nullable(),
    exportItemId: z.uuid().nullable(),
    status: z.string().nullable(),
    previousStatus: z.string().nullable(),
    webhookEvent: z.string(),
  }),
});
