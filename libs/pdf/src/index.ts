export * from './lib/render';
export * from './lib/stamp';
export * from './lib/styles';
export { compileTemplate, DEFAULT_TEMPLATE, formatDate, TemplateError } from './lib/template';
export type { CompiledTemplate, PageContext, TemplateDefinition, TemplateField, TitlePageContext } from './lib/template';
export { SAMPLE_DOCUMENT, SAMPLE_IMAGE_DATA_URI, SAMPLE_SENTENCES } from './lib/sample-document';
