import { Writable } from 'node:stream';
import { readPdf } from '@multipult/testing';
import { DEFAULT_TEMPLATE, renderPdf, SAMPLE_DOCUMENT, stampRecipientWatermark } from '../index';

async function renderSample(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  await renderPdf(
    {
      documents: [SAMPLE_DOCUMENT, { ...SAMPLE_DOCUMENT, id: 'again', title: 'Again' }],
      documentCount: 2,
      template: DEFAULT_TEMPLATE,
      context: { title: 'Export', tenantName: 'Acme', exportedBy: 'ana@example.com', exportedAt: new Date(), documentCount: 2 },
    },
    sink,
  );
  return Buffer.concat(chunks);
}

describe('stampRecipientWatermark', () => {
  it('adds the recipient line, Unicode included, to every page and keeps the rest', async () => {
    const original = await renderSample();
    const before = await readPdf(original);
    const stamp = 'Downloaded by ана@example.com (Әлфия Җәләлова) 2026-12-02 18:00 UTC';

    const stamped = await readPdf(await stampRecipientWatermark(original, { text: stamp }));

    expect(stamped.pageCount).toBe(before.pageCount);
    expect(before.pages.join(' ')).not.toContain('Downloaded by');
    for (const [index, text] of stamped.pages.entries()) {
      expect(text).toContain(stamp);
      expect(text).toContain(before.pages[index].split('\n')[0]);
    }
    expect(stamped.outline).toEqual(before.outline);
  });
});
