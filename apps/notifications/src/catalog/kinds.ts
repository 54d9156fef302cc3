import {
  ApprovalExpiring,
  ApprovalRequested,
  CommentReplied,
  ExportCompleted,
  ExportFailed,
  SessionRevoked,
  TenantInvitationCreated,
  UserMentioned,
  UserPasswordChanged,
  UserPasswordResetRequested,
  UserRegistered,
  UserVerificationRequested,
} from '@multipult/events';
import type { EventEnvelope, PayloadOf } from '@multipult/events';
import { Links, NotificationChannel, NotificationKind, defineKind } from './notification-kind';

const { IN_APP, EMAIL, WEBHOOK } = NotificationChannel;

const SELF_OR_ACCOUNT_WIDE_REVOCATIONS = new Set(['logout', 'user', 'ban', 'account_deleted']);

/** Requested and expiring carry the same facts. */
type ApprovalEvent = EventEnvelope<PayloadOf<typeof ApprovalRequested>>;

/** The member asked to decide, in the run's tenant. */
function approvalDecider(event: ApprovalEvent) {
  return [{ userId: event.payload.userId, tenantId: event.tenantId }];
}

/** Both approval kinds open the run's page at the waiting call. */
function approvalParams(event: ApprovalEvent, links: Links): Record<string, string> {
  const { agentName, tool, risk, summary, expiresAt, runId, toolCallId } = event.payload;
  return {
    agentName,
    tool,
    risk,
    // Templates have no equality helper: this flag lets each language word the level itself.
    highRisk: risk === 'high' ? 'true' : '',
    summary,
    expiresAt,
    link: links.to(`/agents/runs/${runId}`, { toolCall: toolCallId }),
  };
}

/**
 * Every notification type. Adding one is a contract in libs/events, an entry here and its
 * templates in ./templates (a test checks each type has every locale).
 */
export const NOTIFICATION_KINDS: readonly NotificationKind[] = [
  defineKind({
    type: 'welcome',
    contract: UserRegistered,
    channels: [IN_APP, EMAIL],
    critical: false,
    urgent: true,
    addressees: (event) => [{ userId: event.payload.userId, tenantId: event.payload.tenantId }],
    params: (event, links) => ({ displayName: event.payload.displayName, link: links.to('/') }),
  }),
  defineKind({
    type: 'mention',
    contract: UserMentioned,
    channels: [IN_APP, EMAIL, WEBHOOK],
    critical: false,
    urgent: false,
    addressees: (event) => [{ userId: event.payload.mentionedUserId, tenantId: event.tenantId, actorId: event.payload.mentionedBy }],
    params: (event, links) => ({
      documentId: event.payload.documentId,
      commentId: event.payload.commentId,
      link: links.to(`/documents/${event.payload.documentId}`, { comment: event.payload.commentId }),
    }),
  }),
  defineKind({
    type: 'comment_reply',
    contract: CommentReplied,
    channels: [IN_APP, EMAIL, WEBHOOK],
    critical: false,
    urgent: false,
    addressees: (event) =>
      event.payload.parentAuthorId === event.payload.replierId
        ? []
        : [{ userId: event.payload.parentAuthorId, tenantId: event.tenantId, actorId: event.payload.replierId }],
    params: (event, links) => ({
      documentId: event.payload.documentId,
      commentId: event.payload.commentId,
      link: links.to(`/documents/${event.payload.documentId}`, { comment: event.payload.commentId }),
    }),
  }),
  defineKind({
    type: 'security_alert',
    contract: SessionRevoked,
    channels: [IN_APP, EMAIL],
    critical: true,
    urgent: true,
    // Revocations the user made themself, or that end their whole account, are not news to them.
    addressees: (event) =>
      SELF_OR_ACCOUNT_WIDE_REVOCATIONS.has(event.payload.reason) ? [] : [{ userId: event.payload.userId, tenantId: null }],
    params: (event, links) => ({ reason: event.payload.reason, link: links.to('/settings/security') }),
  }),
  defineKind({
    type: 'password_changed',
    contract: UserPasswordChanged,
    channels: [IN_APP, EMAIL],
    critical: true,
    urgent: true,
    addressees: (event) => [{ userId: event.payload.userId, tenantId: null }],
    params: (_event, links) => ({ link: links.to('/settings/security') }),
  }),
  defineKind({
    type: 'email_verification',
    contract: UserVerificationRequested,
    channels: [EMAIL],
    critical: true,
    urgent: true,
    addressees: (event) => [{ userId: event.payload.userId, email: event.payload.email, tenantId: null }],
    params: (event, links) => ({
      link: links.withEmailedToken('/verify-email', event),
      expiresAt: event.payload.expiresAt,
    }),
  }),
  defineKind({
    type: 'password_reset',
    contract: UserPasswordResetRequested,
    channels: [EMAIL],
    critical: true,
    urgent: true,
    addressees: (event) => [{ userId: event.payload.userId, email: event.payload.email, tenantId: null }],
    params: (event, links) => ({
      link: links.withEmailedToken('/reset-password', event),
      expiresAt: event.payload.expiresAt,
    }),
  }),
  defineKind({
    type: 'tenant_invitation',
    contract: TenantInvitationCreated,
    channels: [EMAIL],
    critical: true,
    urgent: true,
    addressees: (event) => [{ userId: null, email: event.payload.email, tenantId: event.payload.tenantId }],
    params: (event, links) => ({
      tenantName: event.payload.tenantName,
      inviterName: event.payload.inviterName,
      role: event.payload.role,
      link: links.withEmailedToken('/invitations/accept', event),
      expiresAt: event.payload.expiresAt,
    }),
  }),
  defineKind({
    type: 'export_ready',
    contract: ExportCompleted,
    channels: [IN_APP, EMAIL],
    critical: false,
    urgent: true,
    // The export's page, not the file: download links are short-lived and minted on each visit.
    addressees: (event) => [{ userId: event.payload.ownerId, tenantId: event.tenantId }],
    params: (event, links) => ({
      title: event.payload.title,
      itemCount: String(event.payload.itemCount),
      expiresAt: event.payload.expiresAt ?? '',
      link: links.to(`/exports/${event.payload.exportId}`),
    }),
  }),
  defineKind({
    type: 'export_failed',
    contract: ExportFailed,
    channels: [IN_APP, EMAIL],
    critical: false,
    urgent: true,
    addressees: (event) => [{ userId: event.payload.ownerId, tenantId: event.tenantId }],
    params: (event, links) => ({ title: event.payload.title, errorCode: event.payload.errorCode, link: links.to(`/exports/${event.payload.exportId}`) }),
  }),
  defineKind({
    type: 'approval_requested',
    contract: ApprovalRequested,
    channels: [IN_APP, EMAIL],
    critical: false,
    // The call is rejected at its deadline, so a daily digest would always be too late.
    urgent: true,
    addressees: approvalDecider,
    params: approvalParams,
  }),
  defineKind({
    type: 'approval_expiring',
    contract: ApprovalExpiring,
    channels: [IN_APP, EMAIL],
    critical: false,
    urgent: true,
    addressees: approvalDecider,
    params: approvalParams,
  }),
  defineKind({
    type: 'announcement',
    contract: null,
    channels: [IN_APP, EMAIL],
    critical: false,
    urgent: false,
    defaultOff: [EMAIL],
    addressees: () => [],
    params: () => ({}),
  }),
];

const byType = new Map(NOTIFICATION_KINDS.map((kind) => [kind.type, kind]));

export function kindOf(type: string): NotificationKind | undefined {
  return byType.get(type);
}

/** The kinds caused by events, for the consumer's subscription. */
export const EVENT_KINDS = NOTIFICATION_KINDS.filter((kind) => kind.contract !== null);
