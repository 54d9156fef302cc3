import { PassThrough, type Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import PDFDocument from 'pdfkit';
import { FONT, fonts as parsedFonts } from './fonts';
import { drawImage, MarkdownLayout, openImage, parseMarkdown, resolveImages, type ImageLoader } from './markdown-layout';
import { compileTemplate, formatDate, type CompiledTemplate, type PageContext, type TemplateDefinition, type TitlePageContext } from './template';

type Doc = InstanceType<typeof PDFDocument>;

export interface RenderDocument {
  id: string;
  title: string;
  summary?: string;
  /** Markdown. */
  body: string;
  language: string;
  author?: string;
  updatedAt?: Date;
}

export interface Branding {
  companyName?: string;
  /** #rrggbb for headings. */
  primaryColor?: string;
  /** #rrggbb for rules and the quote bar. */
  accentColor?: string;
  /** PNG or JPEG, drawn above the title page. */
  logo?: Buffer;
}

export interface Watermark {
  text?: string;
  /** PNG or JPEG. */
  image?: Buffer;
  /** 0..1 */
  opacity: number;
  /** Counter-clockwise. */
  rotationDegrees: number;
  fontSize?: number;
}

export interface RenderContext {
  title: string;
  tenantName: string;
  exportedBy: string;
  exportedAt: Date;
  documentCount: number;
}

export interface RenderInput {
  /** Consumed one at a time, never collected: an export may stream thousands. */
  documents: AsyncIterable<RenderDocument> | Iterable<RenderDocument>;
  /** How many documents will come; sizes the table of contents, which is reserved before they arrive. */
  documentCount: number;
  template: TemplateDefinition;
  branding?: Branding;
  watermark?: Watermark;
  context: RenderContext;
  /** The only way a non-data: image URL is fetched; without it such images show their alt text. */
  loadImage?: ImageLoader;
}

const TOC_HEADING = 'Contents';
const WATERMARK_COLOR = '#9ca3af';

/** Branding is tenant data: a colour pdfkit would not understand falls back to the template's. */
function colorOrNothing(value: string | undefined): string | undefined {
  return value && /^#[0-9a-f]{6}$/i.test(value) ? value : undefined;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function fitWidth(doc: Doc, text: string, width: number): string {
  if (doc.widthOfString(text) <= width) return text;
  // Longest prefix that fits with the ellipsis, by bisection.
  let [fits, tooLong] = [0, text.length];
  while (tooLong - fits > 1) {
    const middle = Math.floor((fits + tooLong) / 2);
    if (doc.widthOfString(`${text.slice(0, middle)}…`) <= width) fits = middle;
    else tooLong = middle;
  }
  return `${text.slice(0, fits).trimEnd()}…`;
}

/** Text that must not flow onto a new page: pdfkit only breaks pages for text given a width. */
function placeText(doc: Doc, text: string, x: number, y: number): void {
  doc.text(text, x, y, { lineBreak: false });
}

/**
 * Renders documents (Markdown) into one branded PDF: optional title page, table of contents with
 * links and bookmarks, one section per document, header, footer, page numbers and watermark.
 * Throws TemplateError before writing anything when the template is invalid.
 */
export async function renderPdf(input: RenderInput, output: NodeJS.WritableStream): Promise<{ pages: number }> {
  const template = compileTemplate(input.template);
  const { styles } = template;
  const { context, branding = {} } = input;
  const fonts = parsedFonts(styles.fontFamily);
  const doc = new PDFDocument({
    size: styles.pageSize,
    margins: styles.margins,
    bufferPages: true,
    autoFirstPage: false,
    // No default font: pdfkit would load (and embed) Helvetica, and a DejaVu default would be opened
    // a second time under its registered name and compared field by field on every document.
    // Every text call below sets a registered font first.
    font: null as unknown as string,
    info: {
      Title: context.title,
      Author: branding.companyName ?? context.tenantName,
      Creator: 'Multipult',
      CreationDate: context.exportedAt,
    },
    displayTitle: true,
  });
  for (const [key, name] of Object.entries(FONT)) doc.registerFont(name, fonts[key as keyof typeof FONT] as unknown as Buffer);
  doc.pipe(output);
  let pages: number;
  try {
    pages = await compose(doc, input, template);
  } catch (error) {
    // Nothing more reaches the output; the caller discards what it received.
    doc.unpipe(output);
    doc.destroy();
    throw error;
  }
  doc.end();
  await finished(output);
  return { pages };
}

/**
 * renderPdf into a stream for a reader that may attach later (storage prepares its target first).
 * A failed render ends the stream with its error, so the reader's pipeline rejects and it drops
 * what it wrote; until a reader listens, the error stays on the stream (`errored`) rather than
 * being an 'error' event nobody handles, which would end the process.
 */
export function renderPdfStream(input: RenderInput, onFailure?: (error: Error) => void): Readable {
  const output = new PassThrough();
  output.on('error', () => undefined);
  renderPdf(input, output).catch((error: Error) => {
    onFailure?.(error);
    output.destroy(error);
  });
  return output;
}

/** Lays out everything on the buffered pages; returns the page count. */
async function compose(doc: Doc, input: RenderInput, template: CompiledTemplate): Promise<number> {
  const { styles } = template;
  const { context, branding = {} } = input;
  const primary = colorOrNothing(branding.primaryColor);
  const layout = new MarkdownLayout(doc, styles, {
    text: styles.textColor,
    heading: primary ?? styles.headingColor,
    link: styles.linkColor,
    muted: styles.mutedColor,
    rule: colorOrNothing(branding.accentColor) ?? primary ?? styles.mutedColor,
  });
  const titleContext: TitlePageContext = {
    title: context.title,
    tenantName: context.tenantName,
    exportedBy: context.exportedBy,
    exportedAt: formatDate(context.exportedAt),
    documentCount: context.documentCount,
    companyName: branding.companyName ?? '',
  };
  const pageIndex = () => doc.bufferedPageRange().count - 1;

  if (template.titlePage) {
    doc.addPage();
    const logo = branding.logo ? openImage(doc, branding.logo) : null;
    if (logo) {
      const scale = Math.min(1, 200 / logo.width, 80 / logo.height);
      drawImage(doc, logo, layout.contentBox.x, doc.y, { width: logo.width * scale, height: logo.height * scale });
      doc.y += logo.height * scale + 24;
    }
    doc.y = Math.max(doc.y, doc.page.height * 0.3);
    const tokens = parseMarkdown(template.titlePage(titleContext));
    layout.render(tokens, await resolveImages(tokens, input.loadImage));
  }

  // Contents: pages reserved now, entries written as each document starts (its page is known then).
  const toc = styles.tableOfContents && input.documentCount > 0 ? reserveContents(doc, layout, input.documentCount, styles.baseFontSize) : null;
  const contentStart = pageIndex() + 1;

  // Header context per content page: which document it shows.
  let currentTitle = '';
  const pageTitles: string[] = [];
  doc.on('pageAdded', () => {
    pageTitles[pageIndex()] = currentTitle;
  });

  let documentNumber = 0;
  const base = styles.baseFontSize;
  for await (const document of input.documents) {
    currentTitle = oneLine(document.title);
    if (documentNumber === 0 || styles.documentBreak === 'page') doc.addPage();
    else {
      layout.gap(base * 2);
      layout.ensureSpace(base * 8);
    }
    const destination = `document-${documentNumber}`;
    doc.addNamedDestination(destination, 'XYZ', null, doc.y, null);
    doc.outline.addItem(currentTitle);
    toc?.add(currentTitle, destination, pageIndex() + 1);
    pageTitles[pageIndex()] = currentTitle;

    const box = layout.contentBox;
    layout.flow([{ text: currentTitle, bold: true, color: layout.colors.heading }], box, base * 1.9);
    if (document.summary) layout.flow([{ text: oneLine(document.summary), italic: true, color: layout.colors.muted }], box, base);
    const meta = [document.author, document.updatedAt ? formatDate(document.updatedAt) : undefined].filter(Boolean).join(' · ');
    if (meta) layout.flow([{ text: meta, color: layout.colors.muted }], box, base * 0.85);
    layout.rule(box);
    const tokens = parseMarkdown(document.body);
    layout.render(tokens, await resolveImages(tokens, input.loadImage));
    documentNumber++;
  }

  // A PDF needs a page even when no document came.
  if (pageIndex() < 0) doc.addPage();
  const total = doc.bufferedPageRange().count;
  for (let page = contentStart; page < total; page++) {
    doc.switchToPage(page);
    const pageContext: PageContext = { ...titleContext, page: page + 1, pages: total, documentTitle: pageTitles[page] ?? '' };
    drawHeaderAndFooter(doc, template.header(pageContext), template.footer(pageContext), styles.mutedColor, base);
  }
  if (input.watermark) drawWatermark(doc, input.watermark, total);
  return total;
}

interface Contents {
  add(title: string, destination: string, page: number): void;
}

function reserveContents(doc: Doc, layout: MarkdownLayout, count: number, base: number): Contents {
  doc.addPage();
  const first = doc.bufferedPageRange().count - 1;
  const box = layout.contentBox;
  layout.flow([{ text: TOC_HEADING, bold: true, color: layout.colors.heading }], box, base * 1.6);
  layout.gap(base * 0.6);
  const entriesTop = doc.y;
  doc.font(FONT.regular).fontSize(base);
  const lineHeight = doc.currentLineHeight() + base * 0.5;
  const top = doc.page.margins.top;
  const bottom = layout.bottom;
  const onFirst = Math.max(1, Math.floor((bottom - entriesTop) / lineHeight));
  const perPage = Math.max(1, Math.floor((bottom - top) / lineHeight));
  const extraPages = Math.ceil(Math.max(0, count - onFirst) / perPage);
  for (let page = 0; page < extraPages; page++) doc.addPage();
  const capacity = onFirst + extraPages * perPage;
  let written = 0;

  return {
    add(title, destination, pageNumber) {
      if (written >= capacity) return;
      const slot = written++;
      const [page, y] =
        slot < onFirst ? [first, entriesTop + slot * lineHeight] : [first + 1 + Math.floor((slot - onFirst) / perPage), top + ((slot - onFirst) % perPage) * lineHeight];
      const [current, x0, y0] = [doc.bufferedPageRange().count - 1, doc.x, doc.y];
      doc.switchToPage(page);
      doc.font(FONT.regular).fontSize(base).fillColor(layout.colors.text);
      const number = String(pageNumber);
      const numberWidth = doc.widthOfString(number);
      const text = fitWidth(doc, title, box.width - numberWidth - base * 3);
      placeText(doc, text, box.x, y);
      const dotsStart = box.x + doc.widthOfString(text) + base * 0.5;
      const dotsEnd = box.x + box.width - numberWidth - base * 0.5;
      const dot = doc.widthOfString('.');
      if (dotsEnd > dotsStart) {
        doc.fillColor(layout.colors.muted);
        placeText(doc, '.'.repeat(Math.floor((dotsEnd - dotsStart) / dot)), dotsStart, y);
      }
      doc.fillColor(layout.colors.text);
      placeText(doc, number, box.x + box.width - numberWidth, y);
      doc.goTo(box.x, y, box.width, doc.currentLineHeight(), destination);
      doc.switchToPage(current);
      doc.x = x0;
      doc.y = y0;
    },
  };
}

function drawHeaderAndFooter(doc: Doc, header: string, footer: string, color: string, base: number): void {
  const { margins, width, height } = doc.page;
  const contentWidth = width - margins.left - margins.right;
  const size = base * 0.8;
  doc.font(FONT.regular).fontSize(size).fillColor(color);
  const lineHeight = doc.currentLineHeight();
  const headerText = fitWidth(doc, oneLine(header), contentWidth);
  if (headerText) placeText(doc, headerText, margins.left, Math.max(4, margins.top / 2 - lineHeight / 2));
  const footerText = fitWidth(doc, oneLine(footer), contentWidth);
  if (footerText) {
    const x = margins.left + (contentWidth - doc.widthOfString(footerText)) / 2;
    placeText(doc, footerText, x, height - Math.max(4 + lineHeight, margins.bottom / 2 + lineHeight / 2));
  }
}

function drawWatermark(doc: Doc, watermark: Watermark, pages: number): void {
  const opacity = Math.min(1, Math.max(0, watermark.opacity));
  const image = watermark.image ? openImage(doc, watermark.image) : null;
  for (let page = 0; page < pages; page++) {
    doc.switchToPage(page);
    const [cx, cy] = [doc.page.width / 2, doc.page.height / 2];
    doc.save();
    doc.opacity(opacity);
    doc.rotate(-watermark.rotationDegrees, { origin: [cx, cy] });
    if (image) {
      const scale = Math.min(1, (doc.page.width * 0.6) / image.width, (doc.page.height * 0.6) / image.height);
      const [w, h] = [image.width * scale, image.height * scale];
      drawImage(doc, image, cx - w / 2, cy - h / 2, { width: w, height: h });
    }
    if (watermark.text) {
      const size = watermark.fontSize ?? 48;
      doc.font(FONT.bold).fontSize(size).fillColor(WATERMARK_COLOR);
      placeText(doc, oneLine(watermark.text), cx - doc.widthOfString(oneLine(watermark.text)) / 2, cy - doc.currentLineHeight() / 2);
    }
    doc.restore();
  }
}
