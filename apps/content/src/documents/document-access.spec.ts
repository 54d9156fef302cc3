import { AuthPrincipal } from '@multipult/auth';
import { canEdit, canRead, readableDocumentsCondition } from './document-access';
import { Document, DocumentStatus, searchConfigFor } from './document.entity';

const principal = (userId: string, permissions: string[], tenantId = 'tenant-a'): AuthPrincipal => ({
  userId,
  sessionId: 's',
  tokenId: 'j',
  tenantId,
  permissions,
  memberships: { [tenantId]: permissions },
  platformPermissions: [],
  credential: 'access_token',
  issuedAt: new Date(),
  expiresAt: new Date(),
});

const document = (status: DocumentStatus, ownerId = 'owner', tenantId = 'tenant-a') =>
  Object.assign(new Document(), { status, ownerId, tenantId });

describe('document access', () => {
  const owner = principal('owner', ['content:read', 'content:write']);
  const reader = principal('reader', ['content:read', 'content:write']);
  const editor = principal('editor', ['content:read', 'content:publish']);
  const foreignAdmin = principal('admin', ['*'], 'tenant-b');

  it('shows published documents to the tenant and drafts to their owner and editors', () => {
    expect(canRead(reader, document(DocumentStatus.PUBLISHED))).toBe(true);
    expect(canRead(reader, document(DocumentStatus.DRAFT))).toBe(false);
    expect(canRead(owner, document(DocumentStatus.DRAFT))).toBe(true);
    expect(canRead(editor, document(DocumentStatus.ARCHIVED))).toBe(true);
    expect(canRead(foreignAdmin, document(DocumentStatus.PUBLISHED))).toBe(false);
  });

  it('lets owners with content:write and editors change documents, never across tenants', () => {
    expect(canEdit(owner, document(DocumentStatus.PUBLISHED))).toBe(true);
    expect(canEdit(reader, document(DocumentStatus.PUBLISHED))).toBe(false);
    expect(canEdit(editor, document(DocumentStatus.DRAFT))).toBe(true);
    expect(canEdit(principal('owner', ['content:read']), document(DocumentStatus.DRAFT))).toBe(false);
    expect(canEdit(foreignAdmin, document(DocumentStatus.DRAFT, 'admin'))).toBe(false);
  });

  it('expresses the same rule in SQL for lists', () => {
    expect(readableDocumentsCondition('d', editor)).toEqual({ sql: 'd.tenant_id = :tenantId', params: { tenantId: 'tenant-a' } });
    expect(readableDocumentsCondition('d', reader).sql).toContain("d.status = 'published' OR d.owner_id = :viewerId");
  });

  it('picks the text search configuration by language, simple for languages without one', () => {
    expect([searchConfigFor('en'), searchConfigFor('ru'), searchConfigFor('tt')]).toEqual(['english', 'russian', 'simple']);
  });
});
