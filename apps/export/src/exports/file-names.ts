import { ExportFormat } from './export.entity';

const EXTENSIONS: Record<ExportFormat, string> = { [ExportFormat.PDF]: 'pdf', [ExportFormat.ZIP]: 'zip', [ExportFormat.JIRA]: 'json' };

/**
 * A download name from a title: ASCII letters, digits and dashes (links and every file system
 * take it), with the id's start so two exports of one title differ, e.g. `weekly-digest-1a2b3c4d.pdf`.
 */
export function fileNameFor(subject: { title: string; id: string; format: ExportFormat }): string {
  const slug = subject.title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return `${slug || 'export'}-${subject.id.slice(0, 8)}.${EXTENSIONS[subject.format]}`;
}
