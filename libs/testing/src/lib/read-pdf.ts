import { spawn } from 'node:child_process';
import path from 'node:path';
import { workspaceRoot } from './service-process';

export interface PdfOutlineEntry {
  title: string;
  /** 1-based page the bookmark points at. */
  page: number | null;
}

export interface PdfLink {
  page: number;
  url: string | null;
  /** 1-based target page of an internal link. */
  destinationPage: number | null;
}

export interface PdfContents {
  pageCount: number;
  /** Extracted text, one string per page. */
  pages: string[];
  /** Bookmark titles in document order (nested ones after their parent). */
  outline: string[];
  outlineEntries: PdfOutlineEntry[];
  info: Record<string, unknown>;
  links: PdfLink[];
  /** Images painted on each page. */
  imagesPerPage: number[];
}

/**
 * Reads a PDF the way a viewer does, with pdfjs-dist. pdfjs-dist ships only as ESM, which jest's
 * CommonJS runtime cannot load, so it runs in a child Node process fed through stdin.
 */
export async function readPdf(pdf: Buffer): Promise<PdfContents> {
  const script = path.join(workspaceRoot(), 'libs/testing/src/lib/pdf-reader.mjs');
  const child = spawn(process.execPath, [script], { cwd: workspaceRoot(), stdio: ['pipe', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const exitCode = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  child.stdin.end(pdf);
  const code = await exitCode;
  if (code !== 0) throw new Error(`pdf-reader.mjs exited with ${code}: ${Buffer.concat(stderr).toString()}`);
  const lines = Buffer.concat(stdout).toString().trim().split('\n');
  const parsed = JSON.parse(lines[lines.length - 1]) as {
    pageCount: number;
    pages: string[];
    outline: PdfOutlineEntry[];
    info: Record<string, unknown>;
    links: PdfLink[];
    images: number[];
  };
  return {
    pageCount: parsed.pageCount,
    pages: parsed.pages,
    outline: parsed.outline.map((entry) => entry.title),
    outlineEntries: parsed.outline,
    info: parsed.info,
    links: parsed.links,
    imagesPerPage: parsed.images,
  };
}
