// Reads a PDF from stdin with pdfjs-dist (ESM only, hence its own process) and prints one JSON line:
// page count, text per page, outline, document info, link annotations and image counts per page.
import { getDocument, OPS } from 'pdfjs-dist/legacy/build/pdf.mjs';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const data = new Uint8Array(Buffer.concat(chunks));

const loading = getDocument({ data, verbosity: 0, isEvalSupported: false, disableFontFace: true });
const pdf = await loading.promise;

async function pageNumberOf(dest) {
  const explicit = typeof dest === 'string' ? await pdf.getDestination(dest) : dest;
  if (!Array.isArray(explicit) || !explicit[0]) return null;
  return typeof explicit[0] === 'number' ? explicit[0] + 1 : (await pdf.getPageIndex(explicit[0])) + 1;
}

const pages = [];
const links = [];
const images = [];
for (let number = 1; number <= pdf.numPages; number++) {
  const page = await pdf.getPage(number);
  const content = await page.getTextContent();
  pages.push(content.items.map((item) => ('str' in item ? item.str + (item.hasEOL ? '\n' : '') : '')).join(''));
  for (const annotation of await page.getAnnotations()) {
    if (annotation.subtype !== 'Link') continue;
    links.push({ page: number, url: annotation.url ?? null, destinationPage: annotation.dest ? await pageNumberOf(annotation.dest) : null });
  }
  const operators = await page.getOperatorList();
  images.push(operators.fnArray.filter((fn) => fn === OPS.paintImageXObject || fn === OPS.paintInlineImageXObject).length);
}

const outline = [];
async function walk(items) {
  for (const item of items ?? []) {
    outline.push({ title: item.title, page: item.dest ? await pageNumberOf(item.dest) : null });
    await walk(item.items);
  }
}
await walk(await pdf.getOutline());
const { info } = await pdf.getMetadata();

process.stdout.write(`${JSON.stringify({ pageCount: pdf.numPages, pages, outline, info, links, images })}\n`);
await loading.destroy();
