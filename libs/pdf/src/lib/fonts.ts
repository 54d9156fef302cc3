import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** Font names registered on every document; DejaVu covers Latin, Cyrillic and the Tatar letters (ә ө ү җ ң һ). */
export const FONT = {
  regular: 'body',
  bold: 'body-bold',
  italic: 'body-italic',
  boldItalic: 'body-bold-italic',
  mono: 'mono',
  monoBold: 'mono-bold',
} as const;

const FILES = {
  sans: {
    regular: 'DejaVuSans.ttf',
    bold: 'DejaVuSans-Bold.ttf',
    italic: 'DejaVuSans-Oblique.ttf',
    boldItalic: 'DejaVuSans-BoldOblique.ttf',
  },
  serif: {
    regular: 'DejaVuSerif.ttf',
    bold: 'DejaVuSerif-Bold.ttf',
    italic: 'DejaVuSerif-Italic.ttf',
    boldItalic: 'DejaVuSerif-BoldItalic.ttf',
  },
  mono: { regular: 'DejaVuSansMono.ttf', bold: 'DejaVuSansMono-Bold.ttf' },
};

const fontDirectory = () => path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');

// Read once per process: every document embeds its own subset, but the files never change.
const cache = new Map<string, Buffer>();
export function fontFile(file: string): Buffer {
  let data = cache.get(file);
  if (!data) {
    data = readFileSync(path.join(fontDirectory(), file));
    cache.set(file, data);
  }
  return data;
}

export type FontFamily = 'sans' | 'serif';

/** A parsed font as pdfkit accepts it in place of a file (its fontkit's font object). */
export interface ParsedFont {
  layout(text: string): unknown;
}

// pdfkit's own fontkit, so the parsed font is exactly what pdfkit expects.
const fontkit = createRequire(require.resolve('pdfkit'))('fontkit') as { create(data: Buffer): ParsedFont };
const parsed = new Map<string, ParsedFont>();
function parsedFont(file: string): ParsedFont {
  let font = parsed.get(file);
  if (!font) {
    font = fontkit.create(fontFile(file));
    parsed.set(file, font);
  }
  return font;
}

/**
 * The fonts of one family, parsed once per process and shared by every document: parsing and
 * warming up DejaVu's tables again for each document cost more than laying out a page. Each
 * document still embeds its own subset.
 */
export function fonts(family: FontFamily): Record<keyof typeof FONT, ParsedFont> {
  const body = FILES[family];
  return {
    regular: parsedFont(body.regular),
    bold: parsedFont(body.bold),
    italic: parsedFont(body.italic),
    boldItalic: parsedFont(body.boldItalic),
    mono: parsedFont(FILES.mono.regular),
    monoBold: parsedFont(FILES.mono.bold),
  };
}

/** DejaVu Sans for stamping pages after rendering (pdf-lib). */
export const stampFont = () => fontFile(FILES.sans.regular);
