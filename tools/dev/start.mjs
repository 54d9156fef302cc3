// `npm start`: builds what changed (Nx cache) and runs the embedded launcher (tools/dev/src/launcher.ts).
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const workspaceRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
process.stderr.write('[multipult] building services (cached when unchanged)...\n');
const build = spawnSync(
  path.join(workspaceRoot, 'node_modules/.bin/nx'),
  ['run-many', '-t', 'build', '-p', 'tag:type:app,dev-launcher', '--outputStyle=static'],
  { cwd: workspaceRoot, stdio: ['ignore', 'ignore', 'inherit'] },
);
if (build.status !== 0) {
  process.stderr.write('[multipult] build failed (run `npx nx run-many -t build` to see why)\n');
  process.exit(1);
}
const launcher = spawn(process.execPath, [path.join(workspaceRoot, 'dist/tools/dev/tools/dev/src/launcher.js')], {
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => launcher.kill(signal));
launcher.on('exit', (code) => process.exit(code ?? 1));
