import { z } from 'zod';
import { defineEvent } from '../event-contract';

/**
 * The GDPR sagas. Auth asks on `auth.privacy.v1`; every service holding user data (a
 * participant) answers on `privacy.replies.v1`, which auth alone consumes.
 */

/** Auth began erasing an account (its sessions are already revoked); participants erase their part. */
export const UserErasureRequested = defineEvent({
  type: 'user.erasure_requested',
  version: 1,
  topic: 'auth.privacy.v1',
  schema: z.object({
    erasureId: z.uuid(),
    userId: z.uuid(),
    /** Services whose confirmation completes the erasure. */
    participants: z.array(z.string().min(1)),
  }),
});

/** A participant erased (deleted or anonymized) everything it held about the user. */
export const UserErasureCompleted = defineEvent({
  type: 'user.erasure_completed',
  version: 1,
  topic: 'privacy.replies.v1',
  schema: z.object({
    erasureId: z.uuid(),
    userId: z.uuid(),
    service: z.string().min(1),
    /** Rows deleted or anonymized, per kind of data. */
    summary: z.record(z.string(), z.number().int().min(0)),
  }),
});

/** A user asked for a copy of their data; participants send their part. */
export const UserDataExportRequested = defineEvent({
  type: 'user.data_export_requested',
  version: 1,
  topic: 'auth.privacy.v1',
  schema: z.object({ exportId: z.uuid(), userId: z.uuid(), participants: z.array(z.string().min(1)) }),
});

/**
 * One chunk of a participant's part of an export: its JSON, gzipped and base64-encoded, split
 * into chunks small enough for one Kafka message.
 */
export const UserDataExportPart = defineEvent({
  type: 'user.data_export_part',
  version: 1,
  topic: 'privacy.replies.v1',
  schema: z.object({
    exportId: z.uuid(),
    userId: z.uuid(),
    service: z.string().min(1),
    chunk: z.number().int().min(0),
    chunkCount: z.number().int().min(1),
    data: z.string(),
  }),
});
