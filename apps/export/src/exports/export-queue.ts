/** The durable job that renders or sends one export. */
export const EXPORT_QUEUE = 'export.run';

export interface ExportJob {
  exportId: string;
}
