import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { eventually, readPdf } from '@multipult/testing';
import {
  compileTemplate,
  DEFAULT_TEMPLATE,
  renderPdf,
  renderPdfStream,
  SAMPLE_DOCUMENT,
  SAMPLE_IMAGE_DATA_URI,
  SAMPLE_SENTENCES,
  TemplateError,
  type RenderDocument,
  type RenderInput,
} from '../index';

class BufferSink extends Writable {
  private readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.chunks.push(chunk);
    callback();
  }
  get buffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

const context = {
  title: 'Quarterly export',
  tenantName: 'Acme',
  exportedBy: 'ana@example.com',
  exportedAt: new Date('2026-12-02T18:00:00Z'),
  documentCount: 3,
};

async function render(input: Partial<RenderInput> & Pick<RenderInput, 'documents' | 'documentCount'>) {
  const sink = new BufferSink();
  const result = await renderPdf({ template: DEFAULT_TEMPLATE, context, ...input }, sink);
  return { ...result, pdf: sink.buffer };
}

const flat = (text: string) => text.replace(/\s+/g, ' ');
const PNG = Buffer.from(SAMPLE_IMAGE_DATA_URI.split(',')[1], 'base64');

describe('renderPdf', () => {
  const second: RenderDocument = {
    id: 'b',
    title: 'Второй документ',
    body: `${SAMPLE_SENTENCES.ru}\n\n[Сайт](https://example.org/ru)`,
    language: 'ru',
  };
  const third: RenderDocument = { id: 'c', title: 'Өченче документ', body: SAMPLE_SENTENCES.tt, language: 'tt' };
  let read: Awaited<ReturnType<typeof readPdf>>;
  let pages: number;
  let pdf: Buffer;

  beforeAll(async () => {
    async function* documents() {
      yield SAMPLE_DOCUMENT;
      yield second;
      yield third;
    }
    ({ pdf, pages } = await render({
      documents: documents(),
      documentCount: 3,
      branding: { companyName: 'Acme Corp', primaryColor: '#aa0000', logo: PNG },
      watermark: { text: 'CONFIDENTIAL', opacity: 0.15, rotationDegrees: 45 },
    }));
    read = await readPdf(pdf);
  });

  it('renders the title page, the contents page and each document on its own pages', () => {
    expect(read.pageCount).toBe(pages);
    expect(pages).toBe(6);
    expect(flat(read.pages[0])).toContain('Quarterly export');
    expect(flat(read.pages[0])).toContain('Acme Corp');
    expect(flat(read.pages[0])).toContain('Exported by ana@example.com on 2026-12-02 18:00 UTC · 3 documents');
    expect(read.imagesPerPage[0]).toBe(1);
    expect(read.info.Title).toBe('Quarterly export');
  });

  it('extracts English, Russian and Tatar text, Tatar letters in both cases included', () => {
    const text = flat(read.pages.join(' '));
    for (const sentence of Object.values(SAMPLE_SENTENCES)) expect(text).toContain(sentence);
    for (const letter of 'әөүҗңһӘӨҮҖҢҺ') expect(text).toContain(letter);
  });

  it('embeds DejaVu and no standard PDF font', () => {
    const raw = pdf.toString('latin1');
    expect(raw).toMatch(/\/BaseFont \/[A-Z]{6}\+DejaVuSans/);
    expect(raw).not.toMatch(/Helvetica|Times-Roman|Courier/);
  });

  it('lists every document with its page in the contents, as links and as bookmarks', () => {
    const expected = [
      { title: SAMPLE_DOCUMENT.title, page: 3 },
      { title: 'Второй документ', page: 5 },
      { title: 'Өченче документ', page: 6 },
    ];
    const contents = read.pages[1];
    expect(contents).toContain('Contents');
    for (const { title, page } of expected) expect(contents).toMatch(new RegExp(`${title}[ .]+${page}\\n`));
    expect(read.outlineEntries).toEqual(expected);
    expect(read.outline).toEqual(expected.map((entry) => entry.title));
    expect(read.links.filter((link) => link.page === 2).map((link) => link.destinationPage)).toEqual([3, 5, 6]);
    for (const { title, page } of expected) expect(read.pages[page - 1]).toContain(title.split(' · ')[0]);
  });

  it('puts the header and "Page N of M" on content pages only, and the watermark on every page', () => {
    for (const [index, text] of read.pages.entries()) {
      expect(text).toContain('CONFIDENTIAL');
      if (index < 2) expect(text).not.toMatch(/Page \d+ of/);
      else expect(text).toContain(`Page ${index + 1} of 6`);
    }
    expect(read.pages[3]).toContain(`Acme · ${SAMPLE_DOCUMENT.title}`);
    expect(read.pages[4]).toContain('Acme · Второй документ');
  });

  it('lays out tables, links, images, code, lists and raw HTML as text', () => {
    const text = flat(read.pages.slice(2, 4).join(' '));
    for (const cell of ['Language', 'Greeting', 'Notes', 'Русский', 'Привет', 'Татарча', 'Сәлам', 'Күзәнәк'])
      expect(text).toContain(cell);
    expect(text).toContain('A longer cell that wraps onto more than one line');
    expect(text).toContain('A link to the web and a line break.');
    expect(text).toContain('return `Hello, ${name}! Привет! Сәлам!`;');
    expect(text).toContain('◦ Nested item · Эчке пункт');
    expect(text).toContain('☑ Done task');
    expect(text).toContain('2. Second · Второй · Икенче');
    expect(text).toContain('<div>Raw HTML is shown as text, not interpreted.</div>');
    expect(read.links).toEqual(
      expect.arrayContaining([
        { page: 3, url: 'https://example.com/docs', destinationPage: null },
        { page: 5, url: 'https://example.org/ru', destinationPage: null },
      ]),
    );
    expect(read.imagesPerPage.slice(2, 4).reduce((sum, count) => sum + count, 0)).toBe(1);
    expect(text).not.toContain('[Checkerboard image]');
  });
});

describe('renderPdf images and layout options', () => {
  const template = { ...DEFAULT_TEMPLATE, titlePage: '', styles: { tableOfContents: false } };

  it('fetches non-data images only through loadImage, and shows the alt text otherwise', async () => {
    const document: RenderDocument = { id: 'i', title: 'Images', body: '![Remote chart](https://cdn.example.com/chart.png)', language: 'en' };
    const refused = await readPdf((await render({ documents: [document], documentCount: 1, template })).pdf);
    expect(refused.pages[0]).toContain('[Remote chart]');
    expect(refused.imagesPerPage).toEqual([0]);

    const requested: string[] = [];
    const loadImage = async (url: string) => (requested.push(url), PNG);
    const loaded = await readPdf((await render({ documents: [document], documentCount: 1, template, loadImage })).pdf);
    expect(requested).toEqual(['https://cdn.example.com/chart.png']);
    expect(loaded.pages[0]).not.toContain('[Remote chart]');
    expect(loaded.imagesPerPage).toEqual([1]);
  });

  it('repeats the table header on every page a long table continues on', async () => {
    const rows = Array.from({ length: 120 }, (_, index) => `| row-${index + 1} | ${SAMPLE_SENTENCES.tt} |`).join('\n');
    const document: RenderDocument = { id: 't', title: 'Table', body: `| Key | Value |\n| --- | --- |\n${rows}`, language: 'tt' };
    const read = await readPdf((await render({ documents: [document], documentCount: 1, template })).pdf);
    expect(read.pageCount).toBeGreaterThan(2);
    for (const text of read.pages) expect(text).toMatch(/^(Table\n)?Key Value\n/);
    const cells = read.pages.join('\n').match(/row-\d+/g);
    expect(cells).toEqual(Array.from({ length: 120 }, (_, index) => `row-${index + 1}`));
  });

  it('cuts a table row taller than a page to the page and goes on with the next rows', async () => {
    const giant = `| giant | ${'слово '.repeat(4000)} |`;
    const document: RenderDocument = { id: 'g', title: 'Giant', body: `| Key | Value |\n| --- | --- |\n| before | x |\n${giant}\n| after | y |`, language: 'ru' };
    const read = await readPdf((await render({ documents: [document], documentCount: 1, template })).pdf);
    const text = read.pages.join('\n');
    expect(text).toContain('before');
    expect(text).toContain('giant');
    expect(text).toContain('after');
    expect(read.pageCount).toBeLessThanOrEqual(3);
  });

  it('flows documents on after each other with documentBreak continuous, and draws an image watermark', async () => {
    const documents = ['One', 'Two', 'Three'].map((title) => ({ id: title, title, body: SAMPLE_SENTENCES.en, language: 'en' }));
    const { pdf } = await render({
      documents,
      documentCount: 3,
      template: { ...template, styles: { tableOfContents: false, documentBreak: 'continuous', fontFamily: 'serif', pageSize: 'LETTER' } },
      watermark: { image: PNG, opacity: 0.2, rotationDegrees: 30 },
    });
    const read = await readPdf(pdf);
    expect(read.pageCount).toBe(1);
    expect(read.outlineEntries).toEqual(['One', 'Two', 'Three'].map((title) => ({ title, page: 1 })));
    expect(read.imagesPerPage).toEqual([1]);
    expect(pdf.toString('latin1')).toMatch(/\/BaseFont \/[A-Z]{6}\+DejaVuSerif/);
    expect(pdf.toString('latin1')).toContain('/MediaBox [0 0 612 792]');
  });
});

describe('renderPdf when the documents fail', () => {
  it('rejects with the iterator error and does not finish the output', async () => {
    async function* documents() {
      yield SAMPLE_DOCUMENT;
      throw new Error('content service went away');
    }
    const sink = new BufferSink();
    await expect(renderPdf({ documents: documents(), documentCount: 2, template: DEFAULT_TEMPLATE, context }, sink)).rejects.toThrow(
      'content service went away',
    );
    expect(sink.writableEnded).toBe(false);
  });
});

describe('renderPdf with 1 000 streamed documents', () => {
  it('renders them from an async generator without keeping them', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const count = 1000;
    // Each document carries 200 KB it never prints (unique, so V8 cannot share it): keeping the documents would retain ~200 MB.
    const heap: number[] = [];
    async function* documents() {
      for (let index = 0; index < count; index++) {
        if (index % 250 === 0) {
          gc();
          heap.push(process.memoryUsage().heapUsed);
        }
        yield {
          id: `d${index}`,
          title: `Документ ${index + 1}`,
          body: `## Раздел ${index + 1}\n\n${SAMPLE_SENTENCES.tt}\n\n- ${SAMPLE_SENTENCES.ru}`,
          language: 'tt',
          attachment: randomBytes(100_000).toString('hex'),
        };
      }
      gc();
      heap.push(process.memoryUsage().heapUsed);
    }
    const started = Date.now();
    const { pdf, pages } = await render({ documents: documents(), documentCount: count, context: { ...context, documentCount: count } });
    const elapsedMs = Date.now() - started;
    const growthMiB = (heap[heap.length - 1] - heap[0]) / 2 ** 20;
    console.log(`1000 documents: ${pages} pages, ${(pdf.length / 2 ** 20).toFixed(1)} MiB, ${elapsedMs} ms, heap +${growthMiB.toFixed(1)} MiB`);
    expect(growthMiB).toBeLessThan(60);

    const read = await readPdf(pdf);
    const contentsPages = pages - 1 - count;
    expect(read.pageCount).toBe(pages);
    expect(read.outline).toHaveLength(count);
    expect(read.outlineEntries[count - 1]).toEqual({ title: `Документ ${count}`, page: pages });
    const contents = flat(read.pages.slice(1, 1 + contentsPages).join(' '));
    expect(contents).toMatch(new RegExp(`Документ 1 [ .]+ ${2 + contentsPages} `));
    expect(contents).toMatch(new RegExp(`Документ ${count} [ .]+ ${pages}`));
    expect(read.pages[pages - 1]).toContain(`Page ${pages} of ${pages}`);
  }, 60_000);
});

describe('compileTemplate', () => {
  it('names the field and line of a Handlebars syntax error', () => {
    const error = catchError(() => compileTemplate({ ...DEFAULT_TEMPLATE, footer: 'Page {{page}}\n{{#if pages}} of {{pages}}' }));
    expect(error).toBeInstanceOf(TemplateError);
    expect(error).toMatchObject({ field: 'footer', line: expect.any(Number) });
    expect((error as Error).message).toMatch(/^footer \(line \d+\): /);
  });

  it('rejects helpers other than formatDate', () => {
    expect(() => compileTemplate({ ...DEFAULT_TEMPLATE, header: '{{lookupSecrets title}}' })).toThrow(TemplateError);
    expect(compileTemplate({ ...DEFAULT_TEMPLATE, header: '{{formatDate exportedAt}}' }).header).toBeInstanceOf(Function);
  });

  it('names the invalid style', () => {
    const error = catchError(() => compileTemplate({ ...DEFAULT_TEMPLATE, styles: { headingColor: 'red' } }));
    expect(error).toBeInstanceOf(TemplateError);
    expect(error).toMatchObject({ field: 'styles.headingColor' });
  });

  it('makes renderPdf fail before writing anything', async () => {
    const sink = new BufferSink();
    await expect(
      renderPdf({ documents: [], documentCount: 0, template: { ...DEFAULT_TEMPLATE, titlePage: '{{#each}}' }, context }, sink),
    ).rejects.toBeInstanceOf(TemplateError);
    expect(sink.buffer).toHaveLength(0);
  });
});

describe('renderPdfStream', () => {
  it('keeps a failure for a reader that attaches after it, without an unhandled error event', async () => {
    const failures: Error[] = [];
    const unreachable: AsyncIterable<RenderDocument> = {
      [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(new Error('content unreachable')) }),
    };
    const stream = renderPdfStream({ documents: unreachable, documentCount: 1, template: DEFAULT_TEMPLATE, context }, (error) => failures.push(error));
    // The reader is late: the render has failed and the stream is destroyed before it attaches.
    await eventually('the failed render to destroy the stream', () => stream.destroyed || undefined, 30_000);
    await expect(pipeline(stream, new BufferSink())).rejects.toThrow('content unreachable');
    expect(failures.map((error) => error.message)).toEqual(['content unreachable']);
  });

  it('streams the whole PDF to a reader', async () => {
    const sink = new BufferSink();
    await pipeline(renderPdfStream({ documents: [SAMPLE_DOCUMENT], documentCount: 1, template: DEFAULT_TEMPLATE, context }), sink);
    expect(sink.buffer.subarray(0, 5).toString()).toBe('%PDF-');
  });
});

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
