import { z } from 'zod';
import { defineEvent } from '../event-contract';

/** Events published by the content service. */

const documentFacts = z.object({
  documentId: z.uuid(),
  ownerId: z.uuid(),
  title: z.string(),
  type: z.string(),
  status: z.enum(['draft', 'published', 'archived']),
  language: z.string(),
  version: z.number().int().positive(),
});

export const DocumentCreated = defineEvent({
  type: 'document.created',
  version: 1,
  topic: 'content.document.v1',
  schema: documentFacts,
});

export const DocumentUpdated = defineEvent({
  type: 'document.updated',
  version: 1,
  topic: 'content.document.v1',
  schema: documentFacts.extend({ changedFields: z.array(z.string()) }),
});

export const DocumentPublished = defineEvent({
  type: 'document.published',
  version: 1,
  topic: 'content.document.v1',
  schema: documentFacts.extend({ publishedAt: z.iso.datetime() }),
});

export const DocumentDeleted = defineEvent({
  type: 'document.deleted',
  version: 1,
  topic: 'content.document.v1',
  schema: z.object({ documentId: z.uuid(), ownerId: z.uuid() }),
});

const translationFacts = z.object({
  documentId: z.uuid(),
  translationId: z.uuid(),
  language: z.string(),
  title: z.string(),
  translatorId: z.uuid().nullable(),
});

/** A translation of a document was added or changed (same topic and key as its document: ordered with it). */
export const DocumentTranslationSaved = defineEvent({
  type: 'document.translation_saved',
  version: 1,
  topic: 'content.document.v1',
  schema: translationFacts.extend({ created: z.boolean() }),
});

export const DocumentTranslationDeleted = defineEvent({
  type: 'document.translation_deleted',
  version: 1,
  topic: 'content.document.v1',
  schema: translationFacts,
});

export const CommentCreated = defineEvent({
  type: 'comment.created',
  version: 1,
  topic: 'content.comment.v1',
  schema: z.object({
    commentId: z.uuid(),
    documentId: z.uuid(),
    documentOwnerId: z.uuid(),
    authorId: z.uuid(),
    parentCommentId: z.uuid().nullable(),
  }),
});

/** A reply, addressed to the author of the comment replied to (e.g. for a notification). */
export const CommentReplied = defineEvent({
  type: 'comment.replied',
  version: 1,
  topic: 'content.comment.v1',
  schema: z.object({
    commentId: z.uuid(),
    documentId: z.uuid(),
    parentCommentId: z.uuid(),
    parentAuthorId: z.uuid(),
    replierId: z.uuid(),
  }),
});

/** The search data of these tenants was rebuilt (reindex command): cached results must go. */
export const SearchReindexed = defineEvent({
  type: 'search.reindexed',
  version: 1,
  topic: 'content.search.v1',
  schema: z.object({ tenantIds: z.array(z.uuid()) }),
});

/** Someone wrote `@username` in a comment; one event per mentioned user. */
export const UserMentioned = defineEvent({
  type: 'user.mentioned',
  version: 1,
  topic: 'content.comment.v1',
  schema: z.object({
    mentionedUserId: z.uuid(),
    mentionedBy: z.uuid(),
    commentId: z.uuid(),
    documentId: z.uuid(),
  }),
});
