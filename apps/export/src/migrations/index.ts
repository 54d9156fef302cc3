import { CreateExportSchema1796236715989 } from './1796236715989-create-export-schema';
import { CreateJiraTables1796300000000 } from './1796300000000-create-jira-tables';

/** The export schema's migrations in the order they run; the kit adds the event tables before them. */
export const exportMigrations = [CreateExportSchema1796236715989, CreateJiraTables1796300000000];
