import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import PDFDocument from 'pdfkit';
import { DEFAULT_TEMPLATE, renderPdf, SAMPLE_SENTENCES, type RenderDocument, type TemplateDefinition } from '@multipult/pdf';

/** Counts bytes and drops them: the benchmark measures rendering, not buffering. */
class ByteCounter extends Writable {
  bytes = 0;
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.bytes += chunk.length;
    callback();
  }
}

export interface PdfRenderRun {
  case: string;
  pages: number;
  bytes: number;
  medianMs: number;
  p95Ms: number;
  /** Process CPU time per render: steadier than wall time when other work shares the cores. */
  medianCpuMs: number;
  baselineMedianMs: number;
  ratio: number;
}

const paragraph = [SAMPLE_SENTENCES.en, SAMPLE_SENTENCES.ru, SAMPLE_SENTENCES.tt].join(' ');

/** One section of ordinary content: headings, paragraphs with inline styles, a list, a table, code. */
function section(index: number): string {
  return `## Section ${index}

${paragraph} **Bold text**, *italic text* and \`inline code\` with a [link](https://example.com/${index}).

${paragraph} ${paragraph}

- First point: ${SAMPLE_SENTENCES.en}
- Второй пункт: ${SAMPLE_SENTENCES.ru}
  - Өченче: ${SAMPLE_SENTENCES.tt}

| Key | Value |
| --- | --- |
| alpha | ${SAMPLE_SENTENCES.en} |
| бета | ${SAMPLE_SENTENCES.ru} |

\`\`\`
const total = items.reduce((sum, item) => sum + item.price, 0);
\`\`\`
`;
}

export function benchDocument(sections: number): RenderDocument {
  return {
    id: `bench-${sections}`,
    title: `Benchmark document, ${sections} sections`,
    summary: 'Mixed English, Russian and Tatar content.',
    body: Array.from({ length: sections }, (_, index) => section(index + 1)).join('\n'),
    language: 'en',
    author: 'bench',
    updatedAt: new Date('2026-12-02T00:00:00Z'),
  };
}

/** Documents only: no title page, no contents, so the figure is per document, not per export. */
const DOCUMENT_ONLY: TemplateDefinition = { ...DEFAULT_TEMPLATE, titlePage: '', styles: { tableOfContents: false } };

async function renderOnce(document: RenderDocument): Promise<{ ms: number; cpuMs: number; pages: number; bytes: number }> {
  const sink = new ByteCounter();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const { pages } = await renderPdf(
    {
      documents: [document],
      documentCount: 1,
      template: DOCUMENT_ONLY,
      context: { title: document.title, tenantName: 'Bench', exportedBy: 'bench@example.com', exportedAt: new Date(), documentCount: 1 },
    },
    sink,
  );
  const ms = performance.now() - started;
  const { user, system } = process.cpuUsage(cpu);
  return { ms, cpuMs: (user + system) / 1000, pages, bytes: sink.bytes };
}

// The baseline shares one parsed font across documents, as renderPdf does.
const fontkit = createRequire(require.resolve('pdfkit'))('fontkit') as { create(data: Buffer): unknown };
const baselineFont = fontkit.create(readFileSync(path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf/DejaVuSans.ttf')));

/** The floor: pdfkit writing the same text as plain wrapped lines, same font, no Markdown or chrome. */
async function baselineOnce(document: RenderDocument): Promise<number> {
  const sink = new ByteCounter();
  const started = performance.now();
  const doc = new PDFDocument({ size: 'A4', margins: { top: 72, right: 60, bottom: 72, left: 60 }, font: baselineFont as string });
  doc.pipe(sink);
  doc.fontSize(10.5).text(`${document.title}\n${document.summary}\n${document.body}`);
  doc.end();
  await finished(sink);
  return performance.now() - started;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const p95 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil(values.length * 0.95) - 1)];

export async function pdfRender(options: { runs: number; warmup: number }): Promise<PdfRenderRun[]> {
  const cases = [
    { name: '1-page document', document: benchDocument(1) },
    { name: '20-page document', document: benchDocument(40) },
  ];
  const results: PdfRenderRun[] = [];
  for (const { name, document } of cases) {
    for (let i = 0; i < options.warmup; i++) {
      await renderOnce(document);
      await baselineOnce(document);
    }
    const ours: number[] = [];
    const oursCpu: number[] = [];
    const baseline: number[] = [];
    let last = { pages: 0, bytes: 0 };
    // Interleaved so both see the same machine state.
    for (let i = 0; i < options.runs; i++) {
      const run = await renderOnce(document);
      ours.push(run.ms);
      oursCpu.push(run.cpuMs);
      last = run;
      baseline.push(await baselineOnce(document));
    }
    results.push({
      case: name,
      pages: last.pages,
      bytes: last.bytes,
      medianMs: median(ours),
      p95Ms: p95(ours),
      medianCpuMs: median(oursCpu),
      baselineMedianMs: median(baseline),
      ratio: median(ours) / median(baseline),
    });
  }
  return results;
}
