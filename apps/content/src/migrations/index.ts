import { CreateContentSchema1732500000001 } from './1732500000001-create-content-schema';
import { CreateEngagement1732500000002 } from './1732500000002-create-engagement';
import { CreateComments1732500000003 } from './1732500000003-create-comments';
import { CreateUserDirectory1732500000004 } from './1732500000004-create-user-directory';
import { CreateTranslationsAndSearchColumns1732500000005 } from './1732500000005-create-translations-and-search-columns';
import { CreateCollections1732500000006 } from './1732500000006-create-collections';
import { MillisecondSortColumns1732500000007 } from './1732500000007-millisecond-sort-columns';
import { CreateDocumentSearchEntries1732500000008 } from './1732500000008-create-document-search-entries';
import { CommentsByDocument1732500000009 } from './1732500000009-comments-by-document';
import { CreateSearchIndexChanges1732500000010 } from './1732500000010-create-search-index-changes';
import { CreateSearchIndexBuilds1732500000011 } from './1732500000011-create-search-index-builds';

/** The content schema's migrations in the order they run; the kit adds the event tables before them. */
export const contentMigrations = [
  CreateContentSchema1732500000001,
  CreateEngagement1732500000002,
  CreateComments1732500000003,
  CreateUserDirectory1732500000004,
  CreateTranslationsAndSearchColumns1732500000005,
  CreateCollections1732500000006,
  MillisecondSortColumns1732500000007,
  CreateDocumentSearchEntries1732500000008,
  CommentsByDocument1732500000009,
  CreateSearchIndexChanges1732500000010,
  CreateSearchIndexBuilds1732500000011,
];
