import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

const run = promisify(execFile);

/** A rendered Kubernetes object, as parsed from `helm template`. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  [field: string]: unknown;
}

function scratch(variable: 'MULTIPULT_HELM_BINARY' | 'MULTIPULT_HELM_CHARTS'): string {
  const value = process.env[variable];
  if (!value) throw new Error(`${variable} is unset: run the chart specs through jest with tools/helm/jest.config.js`);
  return value;
}

/** The scratch copy of helm/<chart> with its dependencies built (see jest/global-setup.mjs). */
export const chartDir = (chart: string) => path.join(scratch('MULTIPULT_HELM_CHARTS'), chart);

/** Runs helm; answers its output, or rejects with its stderr. */
export async function helm(args: string[]): Promise<string> {
  try {
    return (await run(scratch('MULTIPULT_HELM_BINARY'), args, { maxBuffer: 64 * 1024 * 1024 })).stdout;
  } catch (error) {
    const failure = error as { stderr?: string; message: string };
    throw new Error(failure.stderr || failure.message);
  }
}

export interface RenderOptions {
  release?: string;
  namespace?: string;
  /** Values files, relative to the chart. */
  valuesFiles?: string[];
  set?: Record<string, string>;
}

function valueArgs(chart: string, options: RenderOptions): string[] {
  return [
    ...(options.valuesFiles ?? []).flatMap((file) => ['--values', path.join(chartDir(chart), file)]),
    ...Object.entries(options.set ?? {}).flatMap(([key, value]) => ['--set', `${key}=${value}`]),
  ];
}

/** `helm template` of a chart, parsed into its objects. */
export async function render(chart: string, options: RenderOptions = {}): Promise<Manifest[]> {
  const output = await helm(['template', options.release ?? chart, chartDir(chart), '--namespace', options.namespace ?? 'multipult', ...valueArgs(chart, options)]);
  return parseAllDocuments(output)
    .map((document) => {
      if (document.errors.length) throw new Error(`helm template ${chart} rendered invalid YAML: ${document.errors[0].message}`);
      return document.toJS() as Manifest | null;
    })
    .filter((manifest): manifest is Manifest => manifest !== null);
}

/** `helm lint --strict` of a chart. */
export function lint(chart: string, options: RenderOptions = {}): Promise<string> {
  return helm(['lint', '--strict', chartDir(chart), ...valueArgs(chart, options)]);
}
