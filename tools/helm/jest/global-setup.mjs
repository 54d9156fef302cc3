// Copies helm/ to a scratch directory (links resolved) and builds every chart's dependencies there
// once, so specs render real packaged charts without writing charts/ or Chart.lock into the checkout.
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { helmBinary } from '../helm.mjs';

const workspace = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export default async function globalSetup() {
  const helm = await helmBinary();
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'multipult-helm-'));
  const charts = path.join(scratch, 'helm');
  await cp(path.join(workspace, 'helm'), charts, { recursive: true, dereference: true, filter: (source) => !/[/\\]charts([/\\]|$)|Chart\.lock$/.test(source) });
  const names = (await readdir(charts, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  const applications = names.filter((name) => name !== 'library' && name !== 'multipult');
  for (const name of [...applications, 'multipult']) {
    const built = spawnSync(helm, ['dependency', 'build', path.join(charts, name)], { encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`helm dependency build helm/${name} failed: ${built.stderr}`);
  }
  process.env.MULTIPULT_HELM_BINARY = helm;
  process.env.MULTIPULT_HELM_CHARTS = charts;
  globalThis.__MULTIPULT_HELM_SCRATCH__ = scratch;
}
