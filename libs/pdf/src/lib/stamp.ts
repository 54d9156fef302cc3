import fontkit from '@pdf-lib/fontkit';
import { degrees, PDFDocument, rgb } from 'pdf-lib';
import { stampFont } from './fonts';

export interface RecipientStamp {
  /** e.g. "Downloaded by ana@example.com 2026-12-02 18:00 UTC"; any Unicode DejaVu Sans covers. */
  text: string;
  opacity?: number;
}

const STAMP_SIZE = 8;

/**
 * Marks an already rendered PDF with who downloaded it, on every page, without re-rendering: a
 * small line along the bottom edge and a faint diagonal copy across the page.
 */
export async function stampRecipientWatermark(pdf: Buffer, stamp: RecipientStamp): Promise<Buffer> {
  const document = await PDFDocument.load(pdf);
  document.registerFontkit(fontkit);
  const font = await document.embedFont(stampFont(), { subset: true });
  const text = stamp.text.replace(/\s+/g, ' ').trim();
  const opacity = stamp.opacity ?? 0.6;
  const color = rgb(0.35, 0.35, 0.35);
  for (const page of document.getPages()) {
    const { width, height } = page.getSize();
    const lineWidth = font.widthOfTextAtSize(text, STAMP_SIZE);
    page.drawText(text, { x: Math.max(4, (width - lineWidth) / 2), y: 12, size: STAMP_SIZE, font, color, opacity });
    const diagonalSize = Math.min(28, (Math.hypot(width, height) * 0.7) / Math.max(1, font.widthOfTextAtSize(text, 1)));
    const diagonalWidth = font.widthOfTextAtSize(text, diagonalSize);
    const angle = Math.atan2(height, width);
    page.drawText(text, {
      x: width / 2 - (Math.cos(angle) * diagonalWidth) / 2,
      y: height / 2 - (Math.sin(angle) * diagonalWidth) / 2,
      size: diagonalSize,
      font,
      color,
      opacity: opacity / 4,
      rotate: degrees((angle * 180) / Math.PI),
    });
  }
  return Buffer.from(await document.save());
}
