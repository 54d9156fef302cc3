import type PDFDocument from 'pdfkit';
import { Marked, type Token, type Tokens } from 'marked';
import { FONT } from './fonts';
import type { TemplateStyles } from './styles';

type Doc = InstanceType<typeof PDFDocument>;

/** pdfkit's parsed image (openImage is missing from its typings): drawing the same object embeds it once. */
export interface OpenedImage {
  width: number;
  height: number;
}

export function openImage(doc: Doc, data: Buffer): OpenedImage | null {
  try {
    return (doc as unknown as { openImage(src: Buffer): OpenedImage }).openImage(data);
  } catch {
    return null;
  }
}

export function drawImage(doc: Doc, image: OpenedImage, x: number, y: number, options: PDFKit.Mixins.ImageOption): void {
  doc.image(image as unknown as Buffer, x, y, options);
}

export interface LayoutColors {
  text: string;
  heading: string;
  link: string;
  muted: string;
  rule: string;
}

/** Inline text with one style; consecutive runs flow as one paragraph. */
interface Run {
  text: string;
  bold?: boolean;
  italic?: boolean;
  code?: boolean;
  strike?: boolean;
  link?: string;
  color?: string;
}

interface Box {
  x: number;
  width: number;
  color: string;
}

export type ImageLoader = (url: string) => Promise<Buffer | null>;

// pdfkit's own line height for DejaVu: (ascent − descent) / units per em = (1901 + 483) / 2048.
const DEJAVU_LINE_HEIGHT = 1.164;
const HEADING_SCALE = [2, 1.6, 1.35, 1.15, 1, 0.9];
const BULLETS = ['•', '◦', '▪'];
const CODE_BACKGROUND = '#f3f4f6';
const TABLE_BORDER = '#d1d5db';
const TABLE_HEADER_BACKGROUND = '#f9fafb';
// Links leave the PDF only towards the web or mail; anything else (javascript:, file:) stays plain text.
const SAFE_LINK = /^(https?:|mailto:)/i;

// Own instance: extensions or options another module gives the global `marked` must not change our tokens.
const markdown = new Marked({ gfm: true });

export function parseMarkdown(source: string): Token[] {
  return markdown.lexer(source);
}

/** Images the layout will draw; those in table cells are shown as their alt text, so not fetched. */
function imageHrefs(tokens: Token[], into: Set<string>): Set<string> {
  for (const token of tokens) {
    if (token.type === 'image') into.add((token as Tokens.Image).href);
    const nested = token as { tokens?: Token[]; items?: Token[] };
    if (nested.tokens) imageHrefs(nested.tokens, into);
    if (nested.items) imageHrefs(nested.items, into);
  }
  return into;
}

function decodeDataUri(href: string): Buffer | null {
  const match = /^data:image\/(png|jpe?g);base64,([a-z0-9+/=\s]+)$/i.exec(href);
  return match ? Buffer.from(match[2], 'base64') : null;
}

/**
 * Fetches every image a document refers to before layout, so layout stays synchronous. data: URIs
 * are decoded here; anything else goes only through the caller's loader (none = refused).
 */
export async function resolveImages(tokens: Token[], loadImage?: ImageLoader): Promise<Map<string, Buffer | null>> {
  const images = new Map<string, Buffer | null>();
  for (const href of imageHrefs(tokens, new Set())) {
    if (href.startsWith('data:')) images.set(href, decodeDataUri(href));
    else images.set(href, loadImage ? await Promise.resolve().then(() => loadImage(href)).catch(() => null) : null);
  }
  return images;
}

/** Lays marked tokens out on a pdfkit document, flowing onto new pages as needed. */
export class MarkdownLayout {
  constructor(
    private readonly doc: Doc,
    private readonly styles: TemplateStyles,
    readonly colors: LayoutColors,
  ) {}

  get contentBox(): Box {
    const { margins, width } = this.doc.page;
    return { x: margins.left, width: width - margins.left - margins.right, color: this.colors.text };
  }

  get bottom(): number {
    return this.doc.page.height - this.doc.page.margins.bottom;
  }

  get atPageTop(): boolean {
    return this.doc.y <= this.doc.page.margins.top + 0.5;
  }

  /** Extra space between lines so that a line takes `lineHeight` × the font size. */
  lineGap(fontSize: number): number {
    return Math.max(0, fontSize * (this.styles.lineHeight - DEJAVU_LINE_HEIGHT));
  }

  ensureSpace(height: number): void {
    if (this.doc.y + height > this.bottom && !this.atPageTop) this.doc.addPage();
  }

  gap(height: number): void {
    if (!this.atPageTop) this.doc.y += height;
  }

  render(tokens: Token[], images: Map<string, Buffer | null>, box: Box = this.contentBox, listDepth = 0): void {
    for (const token of tokens) this.block(token, images, box, listDepth);
  }

  private block(token: Token, images: Map<string, Buffer | null>, box: Box, listDepth: number): void {
    const base = this.styles.baseFontSize;
    switch (token.type) {
      case 'space':
      case 'def':
        return;
      case 'heading': {
        const { depth, tokens } = token as Tokens.Heading;
        const size = base * HEADING_SCALE[Math.min(depth, 6) - 1];
        this.gap(size * 0.7);
        this.ensureSpace(size * 3.5);
        this.inline(this.runs(tokens, { bold: true, color: this.colors.heading }), images, box, size);
        this.gap(size * 0.35);
        return;
      }
      case 'paragraph':
        this.inline(this.runs((token as Tokens.Paragraph).tokens, {}), images, box, base);
        this.gap(base * 0.6);
        return;
      case 'text': {
        const text = token as Tokens.Text;
        this.inline(text.tokens ? this.runs(text.tokens, {}) : [{ text: text.text }], images, box, base);
        return;
      }
      case 'html':
        // Shown as written: raw HTML is never interpreted.
        this.inline([{ text: (token as Tokens.HTML).text.trim() }], images, box, base);
        this.gap(base * 0.6);
        return;
      case 'code':
        this.codeBlock((token as Tokens.Code).text, box);
        this.gap(base * 0.6);
        return;
      case 'blockquote':
        this.blockquote((token as Tokens.Blockquote).tokens, images, box, listDepth);
        return;
      case 'list':
        this.list(token as Tokens.List, images, box, listDepth);
        if (listDepth === 0) this.gap(base * 0.6);
        return;
      case 'table':
        this.table(token as Tokens.Table, box);
        this.gap(base * 0.6);
        return;
      case 'hr':
        this.rule(box);
        return;
      default: {
        const generic = token as { tokens?: Token[]; text?: string };
        if (generic.tokens) this.inline(this.runs(generic.tokens, {}), images, box, base);
        else if (generic.text) this.inline([{ text: generic.text }], images, box, base);
      }
    }
  }

  rule(box: Box): void {
    const base = this.styles.baseFontSize;
    this.gap(base * 0.5);
    this.ensureSpace(base);
    const y = this.doc.y + base * 0.3;
    this.doc.save().moveTo(box.x, y).lineTo(box.x + box.width, y).lineWidth(1).strokeColor(this.colors.rule).stroke().restore();
    this.doc.y = y + base * 0.8;
  }

  /** Inline tokens as styled runs; images are kept as markers and drawn as blocks. */
  private runs(tokens: Token[] | undefined, style: Omit<Run, 'text'>): (Run | Tokens.Image)[] {
    const out: (Run | Tokens.Image)[] = [];
    for (const token of tokens ?? []) {
      switch (token.type) {
        case 'strong':
          out.push(...this.runs((token as Tokens.Strong).tokens, { ...style, bold: true }));
          break;
        case 'em':
          out.push(...this.runs((token as Tokens.Em).tokens, { ...style, italic: true }));
          break;
        case 'del':
          out.push(...this.runs((token as Tokens.Del).tokens, { ...style, strike: true }));
          break;
        case 'codespan':
          out.push({ ...style, text: (token as Tokens.Codespan).text, code: true });
          break;
        case 'br':
          out.push({ ...style, text: '\n' });
          break;
        case 'link': {
          const link = token as Tokens.Link;
          out.push(...this.runs(link.tokens, SAFE_LINK.test(link.href) ? { ...style, link: link.href } : style));
          break;
        }
        case 'image':
          out.push(token as Tokens.Image);
          break;
        case 'text': {
          const text = token as Tokens.Text;
          // A newline inside a paragraph is a soft break: a space, as in HTML.
          if (text.tokens) out.push(...this.runs(text.tokens, style));
          else out.push({ ...style, text: text.text.replace(/\s*\n\s*/g, ' ') });
          break;
        }
        default: {
          const generic = token as { tokens?: Token[]; text?: string; raw: string };
          if (generic.tokens) out.push(...this.runs(generic.tokens, style));
          else out.push({ ...style, text: generic.text ?? generic.raw });
        }
      }
    }
    return out;
  }

  private inline(items: (Run | Tokens.Image)[], images: Map<string, Buffer | null>, box: Box, fontSize: number): void {
    let pending: Run[] = [];
    for (const item of items) {
      if ('type' in item) {
        const data = images.get(item.href);
        const image = data ? openImage(this.doc, data) : null;
        if (image) {
          this.flow(pending, box, fontSize);
          pending = [];
          this.image(image, box);
        } else {
          pending.push({ text: `[${item.text}]`, color: this.colors.muted });
        }
      } else if (item.text) {
        pending.push(item);
      }
    }
    this.flow(pending, box, fontSize);
  }

  private fontOf(run: Run): string {
    if (run.code) return run.bold ? FONT.monoBold : FONT.mono;
    if (run.bold) return run.italic ? FONT.boldItalic : FONT.bold;
    return run.italic ? FONT.italic : FONT.regular;
  }

  /** Writes runs as one wrapped paragraph (pdfkit continued text), breaking pages as it goes. */
  flow(runs: Run[], box: Box, fontSize: number, align: 'left' | 'center' = 'left'): void {
    if (!runs.length) return;
    const doc = this.doc;
    const lineGap = this.lineGap(fontSize);
    runs.forEach((run, index) => {
      doc.font(this.fontOf(run)).fontSize(run.code ? fontSize * 0.9 : fontSize);
      doc.fillColor(run.link ? this.colors.link : (run.color ?? box.color));
      // Every option is explicit: pdfkit carries the previous run's options into a continued one.
      const options: PDFKit.Mixins.TextOptions = {
        width: box.width,
        align,
        lineGap,
        continued: index < runs.length - 1,
        link: run.link ?? null,
        underline: Boolean(run.link),
        strike: Boolean(run.strike),
      };
      if (index === 0) doc.text(run.text, box.x, doc.y, options);
      else doc.text(run.text, options);
    });
  }

  private image(image: OpenedImage, box: Box): void {
    const maxHeight = (this.bottom - this.doc.page.margins.top) * 0.6;
    const scale = Math.min(1, box.width / image.width, maxHeight / image.height);
    const [width, height] = [image.width * scale, image.height * scale];
    this.ensureSpace(height);
    drawImage(this.doc, image, box.x, this.doc.y, { width, height });
    this.doc.y += height + this.styles.baseFontSize * 0.4;
  }

  private codeBlock(text: string, box: Box): void {
    const doc = this.doc;
    const size = this.styles.baseFontSize * 0.9;
    const padding = 6;
    doc.font(FONT.mono).fontSize(size);
    const lineHeight = doc.currentLineHeight() + 2;
    const perLine = Math.max(1, Math.floor((box.width - 2 * padding) / doc.widthOfString('M')));
    const lines = text
      .replace(/\t/g, '    ')
      .replace(/\r/g, '')
      .split('\n')
      .flatMap((line) => (line.length <= perLine ? [line] : (line.match(new RegExp(`.{1,${perLine}}`, 'gu')) ?? [''])));
    this.ensureSpace(lineHeight + 2 * padding);
    const band = (height: number) => doc.save().rect(box.x, doc.y, box.width, height).fill(CODE_BACKGROUND).restore();
    band(padding);
    doc.y += padding;
    for (const line of lines) {
      if (doc.y + lineHeight > this.bottom) doc.addPage();
      const y = doc.y;
      band(lineHeight);
      doc.font(FONT.mono).fontSize(size).fillColor(this.colors.text);
      doc.text(line, box.x + padding, y + 1, { lineBreak: false });
      doc.y = y + lineHeight;
    }
    band(padding);
    doc.y += padding;
  }

  private blockquote(tokens: Token[], images: Map<string, Buffer | null>, box: Box, listDepth: number): void {
    const doc = this.doc;
    const indent = 14;
    const startPage = doc.bufferedPageRange().count - 1;
    const startY = doc.y;
    this.render(tokens, images, { x: box.x + indent, width: box.width - indent, color: this.colors.muted }, listDepth);
    const endPage = doc.bufferedPageRange().count - 1;
    const endY = doc.y;
    // The bar is drawn afterwards, on every page the quote reached.
    for (let page = startPage; page <= endPage; page++) {
      doc.switchToPage(page);
      const top = page === startPage ? startY : doc.page.margins.top;
      const bottom = page === endPage ? endY - this.styles.baseFontSize * 0.6 : this.bottom;
      doc.save().rect(box.x + 2, top, 3, Math.max(0, bottom - top)).fill(this.colors.rule).restore();
    }
    doc.y = endY;
  }

  private list(list: Tokens.List, images: Map<string, Buffer | null>, box: Box, depth: number): void {
    const doc = this.doc;
    const size = this.styles.baseFontSize;
    const start = typeof list.start === 'number' ? list.start : 1;
    list.items.forEach((item, index) => {
      let marker = list.ordered ? `${start + index}.` : BULLETS[depth % BULLETS.length];
      if (item.task) marker = item.checked ? '☑' : '☐';
      doc.font(FONT.regular).fontSize(size);
      const indent = Math.max(16, doc.widthOfString(marker) + 6);
      this.ensureSpace(doc.currentLineHeight(true) + this.lineGap(size));
      const y = doc.y;
      doc.fillColor(box.color).text(marker, box.x, y, { lineBreak: false });
      doc.y = y;
      this.render(item.tokens, images, { ...box, x: box.x + indent, width: box.width - indent }, depth + 1);
      if (item.loose) this.gap(size * 0.3);
    });
  }

  private cellText(tokens: Token[]): string {
    return this.runs(tokens, {})
      .map((item) => ('type' in item ? `[${item.text}]` : item.text))
      .join('');
  }

  private table(table: Tokens.Table, box: Box): void {
    const doc = this.doc;
    const size = this.styles.baseFontSize * 0.95;
    const padding = 4;
    const lineGap = this.lineGap(size) / 2;
    const header = table.header.map((cell) => this.cellText(cell.tokens));
    const rows = table.rows.map((row) => row.map((cell) => this.cellText(cell.tokens)));
    // Columns share the width by their longest text, within limits so none collapses.
    const weights = header.map((_, column) =>
      Math.min(40, Math.max(6, ...[header, ...rows].map((row) => (row[column] ?? '').length))),
    );
    const total = weights.reduce((sum, weight) => sum + weight, 0);
    const widths = weights.map((weight) => (box.width * weight) / total);
    const pageHeight = this.bottom - doc.page.margins.top;

    const heightOf = (cells: string[], font: string) => {
      doc.font(font).fontSize(size);
      return (
        Math.max(...cells.map((text, column) => doc.heightOfString(text || ' ', { width: widths[column] - 2 * padding, lineGap }))) +
        2 * padding
      );
    };
    /** Draws a row if it fits below; `clip` cuts a row taller than a whole page to the space left. */
    const drawRow = (cells: string[], font: string, background?: string, clip = false) => {
      const needed = heightOf(cells, font);
      const height = clip ? Math.min(needed, this.bottom - doc.y) : needed;
      if (doc.y + height > this.bottom) return false;
      const y = doc.y;
      let x = box.x;
      cells.forEach((text, column) => {
        const width = widths[column];
        if (background) doc.save().rect(x, y, width, height).fill(background).restore();
        doc.save().rect(x, y, width, height).lineWidth(0.5).strokeColor(TABLE_BORDER).stroke().restore();
        doc.font(font).fontSize(size).fillColor(box.color);
        doc.text(text, x + padding, y + padding, {
          width: width - 2 * padding,
          height: height - 2 * padding,
          ellipsis: true,
          lineGap,
          align: table.align[column] ?? 'left',
        });
        x += width;
      });
      doc.y = y + height;
      return true;
    };
    const drawHeader = () => drawRow(header, FONT.bold, TABLE_HEADER_BACKGROUND);

    // The header never ends a page alone.
    this.ensureSpace(Math.min(pageHeight, heightOf(header, FONT.bold) + (rows[0] ? heightOf(rows[0], FONT.regular) : 0)));
    if (!drawHeader()) {
      doc.addPage();
      drawRow(header, FONT.bold, TABLE_HEADER_BACKGROUND, true);
    }
    for (const row of rows) {
      if (!drawRow(row, FONT.regular)) {
        // The header repeats on every page the table continues on.
        doc.addPage();
        drawHeader();
        drawRow(row, FONT.regular, undefined, true);
      }
    }
    doc.x = box.x;
  }
}
