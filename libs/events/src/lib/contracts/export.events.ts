import { z } from 'zod';
import { defineEvent } from '../event-contract';

/** Events published by the export service. */

export const ExportCreated = defineEvent({
  type: 'export.created',
  version: 1,
  topic: 'export.export.v1',
  schema: z.object({
    exportId: z.uuid(),
    ownerId: z.uuid(),
    name: z.string(),
  }),
});
