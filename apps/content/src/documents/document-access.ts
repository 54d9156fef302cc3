import { AuthPrincipal, hasPermission } from '@multipult/auth';
import { Document, DocumentStatus } from './document.entity';

/** Editors see and change every document of their tenant, drafts included. */
export const isEditor = (principal: AuthPrincipal) =>
  hasPermission(principal.permissions, 'content:publish') || hasPermission(principal.permissions, 'content:moderate');

/** Published documents are visible to readers of the tenant; drafts and archived ones to their owner and editors. */
export function canRead(principal: AuthPrincipal, document: Document): boolean {
  return (
    document.tenantId === principal.tenantId &&
    (document.status === DocumentStatus.PUBLISHED || document.ownerId === principal.userId || isEditor(principal))
  );
}

/** Owners with content:write and editors change documents, and anything else a user owns in a tenant (e.g. collections). */
export function canEdit(principal: AuthPrincipal, owned: Pick<Document, 'tenantId' | 'ownerId'>): boolean {
  return (
    owned.tenantId === principal.tenantId &&
    ((owned.ownerId === principal.userId && hasPermission(principal.permissions, 'content:write')) || isEditor(principal))
  );
}

/** The SQL form of canRead, for lists and search (`alias` is the documents alias). */
export function readableDocumentsCondition(alias: string, principal: AuthPrincipal): { sql: string; params: Record<string, unknown> } {
  if (isEditor(principal)) return { sql: `${alias}.tenant_id = :tenantId`, params: { tenantId: principal.tenantId } };
  return {
    sql: `${alias}.tenant_id = :tenantId AND (${alias}.status = 'published' OR ${alias}.owner_id = :viewerId)`,
    params: { tenantId: principal.tenantId, viewerId: principal.userId },
  };
}
