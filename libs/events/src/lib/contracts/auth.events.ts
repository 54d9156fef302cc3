import { z } from 'zod';
import { defineEvent } from '../event-contract';

/** Events published by the auth service. */

export const UserRegistered = defineEvent({
  type: 'user.registered',
  version: 1,
  topic: 'auth.user.v1',
  schema: z.object({
    userId: z.uuid(),
    email: z.email(),
    displayName: z.string().min(1),
    /** Added within v1; events written before it lack it. */
    username: z.string().optional(),
    tenantId: z.uuid().nullable(),
  }),
});

export const UserLoggedIn = defineEvent({
  type: 'user.logged_in',
  version: 1,
  topic: 'auth.user.v1',
  schema: z.object({
    userId: z.uuid(),
    sessionId: z.uuid(),
    tenantId: z.uuid().nullable(),
    ip: z.string().nullable(),
    userAgent: z.string().nullable(),
  }),
});

export const SessionRevoked = defineEvent({
  type: 'session.revoked',
  version: 1,
  topic: 'auth.session.v1',
  schema: z.object({
    userId: z.uuid(),
    sessionId: z.uuid(),
    reason: z.enum(['logout', 'refresh_token_reuse', 'admin', 'password_change']),
  }),
});
