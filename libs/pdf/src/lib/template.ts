import Handlebars from 'handlebars';
import { templateStylesSchema, type TemplateStyles, type TemplateStylesInput } from './styles';

/** A tenant's template version, as the export service stores it. */
export interface TemplateDefinition {
  /** Handlebars producing Markdown for the title page; '' = no title page. */
  titlePage: string;
  /** Handlebars producing one line of plain text at the top of every content page. */
  header: string;
  /** Handlebars producing one line at the bottom of every content page; `{{page}}` and `{{pages}}` available. */
  footer: string;
  styles: TemplateStylesInput;
}

export type TemplateField = 'titlePage' | 'header' | 'footer' | 'styles';

/** A template that does not compile or whose styles are invalid; the message names the field (and line). */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';

  constructor(
    readonly field: string,
    readonly detail: string,
    readonly line?: number,
  ) {
    super(`${field}${line === undefined ? '' : ` (line ${line})`}: ${detail}`);
  }
}

export interface TitlePageContext {
  title: string;
  tenantName: string;
  exportedBy: string;
  exportedAt: string;
  documentCount: number;
  companyName: string;
}

export interface PageContext extends TitlePageContext {
  page: number;
  pages: number;
  /** Title of the document the page belongs to. */
  documentTitle: string;
}

export interface CompiledTemplate {
  titlePage: ((context: TitlePageContext) => string) | null;
  header: (context: PageContext) => string;
  footer: (context: PageContext) => string;
  styles: TemplateStyles;
}

/** "2026-12-02 18:00 UTC": unambiguous in every tenant language. */
export function formatDate(value: Date | string | number): string {
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

// Own environment: templates see formatDate and Handlebars' built-ins only, whatever else registers helpers.
const handlebars = Handlebars.create();
handlebars.registerHelper('formatDate', (value: unknown) =>
  value instanceof Date || typeof value === 'string' || typeof value === 'number' ? formatDate(value) : '',
);

const SAMPLE_PAGE_CONTEXT: PageContext = {
  title: 'Sample',
  tenantName: 'Tenant',
  exportedBy: 'user@example.com',
  exportedAt: formatDate(new Date(0)),
  documentCount: 1,
  companyName: 'Company',
  page: 1,
  pages: 1,
  documentTitle: 'Document',
};

function lineOf(error: unknown): number | undefined {
  const line = (error as { lineNumber?: unknown }).lineNumber;
  if (typeof line === 'number') return line;
  const match = /line (\d+)/.exec(error instanceof Error ? error.message : String(error));
  return match ? Number(match[1]) : undefined;
}

function compileField<Context>(field: TemplateField, source: string): (context: Context) => string {
  try {
    handlebars.parse(source);
    // Output is Markdown or plain text, never HTML: nothing to escape.
    const template = handlebars.compile<Context>(source, { noEscape: true, strict: false });
    // Missing helpers and bad block params only fail when rendered.
    template(SAMPLE_PAGE_CONTEXT as Context);
    return template;
  } catch (error) {
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    throw new TemplateError(field, message, lineOf(error));
  }
}

export function compileTemplate(definition: TemplateDefinition): CompiledTemplate {
  const parsed = templateStylesSchema.safeParse(definition.styles ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TemplateError(['styles', ...issue.path.map(String)].join('.'), issue.message);
  }
  return {
    titlePage: definition.titlePage.trim() ? compileField<TitlePageContext>('titlePage', definition.titlePage) : null,
    header: compileField<PageContext>('header', definition.header),
    footer: compileField<PageContext>('footer', definition.footer),
    styles: parsed.data,
  };
}

/** What a tenant gets before making its own template. */
export const DEFAULT_TEMPLATE: TemplateDefinition = {
  titlePage: [
    '# {{title}}',
    '',
    '{{#if companyName}}**{{companyName}}**{{/if}}',
    '',
    'Exported by {{exportedBy}} on {{exportedAt}} · {{documentCount}} documents',
  ].join('\n'),
  header: '{{tenantName}} · {{documentTitle}}',
  footer: 'Page {{page}} of {{pages}}',
  styles: {},
};
