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
    /** Preferred language (BCP 47 primary tag, e.g. `en`, `ru`); added within v1. */
    locale: z.string().min(2).max(16).optional(),
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
    /**
     * `user`: ended by the user from another session; `session_limit`: the oldest past the
     * per-user limit; `ban`, `account_deleted`: every session of the user. Values are only added
     * within v1, so consumers deploy before producers.
     */
    reason: z.enum(['logout', 'refresh_token_reuse', 'admin', 'password_change', 'user', 'session_limit', 'ban', 'account_deleted']),
  }),
});

/** A user joined a tenant (created it, was added, accepted an invitation). */
export const TenantMemberAdded = defineEvent({
  type: 'tenant.member_added',
  version: 1,
  topic: 'auth.tenant.v1',
  schema: z.object({ tenantId: z.uuid(), userId: z.uuid(), role: z.string().min(1) }),
});

/** A user left a tenant (removed by an admin). */
export const TenantMemberRemoved = defineEvent({
  type: 'tenant.member_removed',
  version: 1,
  topic: 'auth.tenant.v1',
  schema: z.object({ tenantId: z.uuid(), userId: z.uuid() }),
});

/** A member's role in a tenant changed. */
export const TenantMemberRoleChanged = defineEvent({
  type: 'tenant.member_role_changed',
  version: 1,
  topic: 'auth.tenant.v1',
  schema: z.object({ tenantId: z.uuid(), userId: z.uuid(), role: z.string().min(1) }),
});

/**
 * The one-time token of an emailed link travels sealed for the notifications service
 * (EMAIL_TOKEN_SEAL_KEY, see sealEmailedToken in @multipult/auth), which alone opens it to build
 * the link: Kafka, the outbox and logs hold no usable token. The auth service stores only hashes.
 */
const emailedToken = {
  /** The sealed token; added within v1, so consumers deploy before producers. */
  sealedToken: z.string().min(16).optional(),
  /** The raw token: only in events written before sealedToken (still read, never written). */
  token: z.string().min(16).optional(),
  expiresAt: z.iso.datetime(),
};

/** The token fields of user.verification_requested, user.password_reset_requested and tenant.invitation_created. */
export interface EmailedTokenFields {
  sealedToken?: string;
  token?: string;
}

const hasOneFormOfToken = ({ sealedToken, token }: EmailedTokenFields) => (sealedToken === undefined) !== (token === undefined);

const withEmailedToken = <S extends z.ZodRawShape>(shape: S) =>
  z
    .object({ ...shape, ...emailedToken })
    .refine((payload) => hasOneFormOfToken(payload as EmailedTokenFields), { message: 'needs exactly one of sealedToken and token', path: ['sealedToken'] });

/** A user must confirm their email address (sign-up or change of address). */
export const UserVerificationRequested = defineEvent({
  type: 'user.verification_requested',
  version: 1,
  topic: 'auth.user.v1',
  schema: withEmailedToken({ userId: z.uuid(), email: z.email() }),
});

/** A user asked to reset a forgotten password. */
export const UserPasswordResetRequested = defineEvent({
  type: 'user.password_reset_requested',
  version: 1,
  topic: 'auth.user.v1',
  schema: withEmailedToken({ userId: z.uuid(), email: z.email() }),
});

/**
 * A user's password was set anew: by a reset link (every session was signed out) or changed
 * while signed in (every other session was signed out).
 */
export const UserPasswordChanged = defineEvent({
  type: 'user.password_changed',
  version: 1,
  topic: 'auth.user.v1',
  schema: z.object({ userId: z.uuid(), method: z.enum(['reset', 'change']) }),
});

/** Someone invited an email address into a tenant; the invitee may not have an account yet. */
export const TenantInvitationCreated = defineEvent({
  type: 'tenant.invitation_created',
  version: 1,
  topic: 'auth.tenant.v1',
  schema: withEmailedToken({
    invitationId: z.uuid(),
    tenantId: z.uuid(),
    tenantName: z.string().min(1),
    email: z.email(),
    role: z.string().min(1),
    invitedBy: z.uuid(),
    inviterName: z.string().min(1),
  }),
});

/** A platform admin banned a user: every session ended, sign-in refused until unbanned. */
export const UserBanned = defineEvent({
  type: 'user.banned',
  version: 1,
  topic: 'auth.user.v1',
  schema: z.object({ userId: z.uuid(), bannedBy: z.uuid(), reason: z.string().nullable() }),
});

export const UserUnbanned = defineEvent({
  type: 'user.unbanned',
  version: 1,
  topic: 'auth.user.v1',
  schema: z.object({ userId: z.uuid(), unbannedBy: z.uuid() }),
});
