import { ExportFormat } from './export.entity';
import { fileNameFor } from './file-names';

describe('fileNameFor', () => {
  const id = '1a2b3c4d-0000-4000-8000-000000000000';

  it('makes a link-safe ASCII name from the title, with the id so names do not collide', () => {
    expect(fileNameFor({ title: 'Weekly Digest: Café & Co.', id, format: ExportFormat.PDF })).toBe('weekly-digest-cafe-co-1a2b3c4d.pdf');
    expect(fileNameFor({ title: 'Report', id, format: ExportFormat.ZIP })).toBe('report-1a2b3c4d.zip');
  });

  it('falls back to "export" for titles without Latin letters or digits', () => {
    expect(fileNameFor({ title: 'Әкиятләр җыентыгы', id, format: ExportFormat.PDF })).toBe('export-1a2b3c4d.pdf');
  });

  it('matches the pattern signed download links accept', () => {
    const name = fileNameFor({ title: `${'long title '.repeat(30)}!`, id, format: ExportFormat.PDF });
    expect(name).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]{0,150}$/);
  });
});
