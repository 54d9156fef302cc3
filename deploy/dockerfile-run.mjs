#!/usr/bin/env node
// Executes deploy/Dockerfile on this host without a Docker engine (neither this machine nor CI has one),
// faithfully enough to prove the recipe: each stage gets its own scratch root under a temp dir (stages build
// side by side, as BuildKit builds them, a COPY --from waiting for the stage it names) and
// absolute container paths map into it (WORKDIR /app -> <root>/<stage>/app); COPY reads the build context
// (honouring .dockerignore) or another stage's root; RUN runs with sh in the mapped working directory with
// the ARG/ENV values exported (plus HOME for npm's cache, and the host's CA and proxy settings), BuildKit
// --mount flags dropped. The final stage's CMD (or --command, as `docker run image <command>` replaces it)
// then starts with the given environment; the HEALTHCHECK runs against it until it passes, and it is stopped.
//
// What stands in for the base image: the node running this script (Node 24 from node_modules/.bin) comes
// first on PATH, then the host's PATH (npm, sh). RUN commands must therefore use paths relative to their
// WORKDIR; USER and COPY --chown are honoured only when the user exists here and this runs as root, else
// noted and ignored; absolute paths in --env values are not mapped.
//
// node deploy/dockerfile-run.mjs --build-arg APP=auth [--env K=V ...] [--env-file file] [--command "node ... migrate"]
//   [--file deploy/Dockerfile] [--context .] [--root dir (kept)] [--no-build (reuse --root)] [--hold] [--timeout 180]
// --hold keeps a healthy service running (after printing `healthy after ...`) until SIGTERM or SIGINT.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: options } = parseArgs({
  options: {
    file: { type: 'string', default: 'deploy/Dockerfile' },
    context: { type: 'string', default: '.' },
    'build-arg': { type: 'string', multiple: true, default: [] },
    env: { type: 'string', multiple: true, default: [] },
    'env-file': { type: 'string', multiple: true, default: [] },
    command: { type: 'string' },
    root: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    hold: { type: 'boolean', default: false },
    timeout: { type: 'string', default: '180' },
  },
});

const context = path.resolve(options.context);
const pairs = (list) => Object.fromEntries(list.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
const envFileLines = options['env-file'].flatMap((file) => readFileSync(file, 'utf8').split('\n').filter((line) => /^\s*[A-Za-z_]\w*=/.test(line)));
const buildArgs = pairs(options['build-arg']);
const runEnv = { ...pairs(envFileLines.map((line) => line.trim())), ...pairs(options.env) };
const root = options.root ? path.resolve(options.root) : mkdtempSync(path.join(os.tmpdir(), 'dockerfile-run-'));
const started = Date.now();
const seconds = (since) => `${((Date.now() - since) / 1000).toFixed(1)}s`;
const log = (line) => process.stdout.write(`${line}\n`);
/** The RUN and --command process groups under way (stages build side by side): a failure ends them all. */
const running = new Set();
const fail = (message) => {
  for (const child of running) process.kill(-child.pid, 'SIGKILL');
  log(`dockerfile-run: ${message}`);
  if (!options.root) rmSync(root, { recursive: true, force: true });
  process.exit(1);
};

/** Instructions of the Dockerfile: continuation lines joined, comments and parser directives dropped. */
function instructions(text) {
  const joined = text.replace(/\\\r?\n(\s*#[^\n]*\n)*/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [, keyword, rest] = /^(\S+)\s*(.*)$/.exec(line);
      return { keyword: keyword.toUpperCase(), rest: rest.trim(), line };
    });
}

/** ${NAME}, ${NAME:-default} and $NAME from the given variables, as the Dockerfile frontend expands them. */
function expand(text, variables) {
  return text.replace(/\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)/g, (_, braced, fallback, bare) => {
    const value = variables[braced ?? bare];
    return value !== undefined && value !== '' ? value : (fallback ?? '');
  });
}

/** Leading --name=value flags of an instruction, and what follows them. */
function flags(rest) {
  const found = {};
  let remaining = rest;
  for (let match; (match = /^--([\w-]+)(?:=(\S*))?\s*/.exec(remaining)); remaining = remaining.slice(match[0].length)) {
    found[match[1]] = match[2] ?? true;
  }
  return { flags: found, rest: remaining };
}

/** Exec form (a JSON array) as is, shell form through sh -c. */
const commandOf = (text) => (text.startsWith('[') ? JSON.parse(text) : ['sh', '-c', text]);

const dockerIgnore = existsSync(path.join(context, '.dockerignore'))
  ? readFileSync(path.join(context, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'))
      .map((line) => ({ negated: line.startsWith('!'), pattern: path.posix.normalize(line.replace(/^!/, '').replace(/^\/+|\/+$/g, '')) }))
  : [];

/** .dockerignore semantics: the last matching rule wins, and a rule matching a directory covers what is under it. */
function ignored(relative) {
  const parts = relative.split(path.sep);
  const prefixes = parts.map((_, index) => parts.slice(0, index + 1).join('/'));
  let result = false;
  for (const { negated, pattern } of dockerIgnore) {
    if (prefixes.some((prefix) => path.matchesGlob(prefix, pattern))) result = !negated;
  }
  return result;
}

function userIds(user) {
  if (process.getuid?.() !== 0) return undefined;
  const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  return uid.status === 0 && gid.status === 0 ? { uid: Number(uid.stdout), gid: Number(gid.stdout) } : undefined;
}

// Until the service starts, SIGTERM or SIGINT ends the RUN or --command process groups under way, and this script.
let serving = false;
for (const name of ['SIGTERM', 'SIGINT']) {
  process.on(name, () => {
    if (serving) return;
    fail(`${name} received`);
  });
}

function runProcess(command, { cwd, env, ids, output }) {
  return new Promise((resolve) => {
    const child = spawn(command[0], command.slice(1), { cwd, env, ...ids, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    child.stdout.on('data', output);
    child.stderr.on('data', output);
    child.on('error', (error) => resolve({ code: 127, error }));
    child.on('close', (code, signal) => {
      running.delete(child);
      resolve({ code: code ?? 128, signal });
    });
  });
}

// The host's node first on PATH, in place of the base image's; the host's trust store settings in place of the
// image's CA certificates, and the proxy variables Docker passes to RUN as predefined ARGs.
const hostPath = `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`;
const hostNetwork = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => /^(NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|(HTTPS?|FTP|NO|ALL)_PROXY)$/i.test(name)),
);
const globalArgs = {};
const stages = [];
const all = instructions(readFileSync(path.resolve(options.file), 'utf8'));

// Global ARGs, then each FROM opens a stage holding the instructions up to the next one.
for (const [index, instruction] of all.entries()) {
  instruction.step = index + 1;
  const { keyword, rest } = instruction;
  if (keyword === 'FROM') {
    const [image, , name] = expand(rest, globalArgs).split(/\s+/);
    if (stages.some((candidate) => candidate.name === image)) fail(`FROM another stage (${image}) is not supported`);
    const stageName = name ?? `stage${stages.length}`;
    stages.push({ name: stageName, image, from: instruction, instructions: [], root: path.join(root, stageName), args: {}, env: {}, workdir: '/' });
  } else if (stages.length) {
    stages.at(-1).instructions.push(instruction);
  } else if (keyword === 'ARG') {
    const [, name, fallback] = /^(\w+)(?:=(.*))?$/.exec(rest);
    globalArgs[name] = buildArgs[name] ?? (fallback !== undefined ? expand(fallback, globalArgs) : undefined);
  } else {
    fail(`${keyword} before the first FROM is not supported`);
  }
}

/** Runs one stage's instructions in order; a COPY --from waits for the stage it names. */
async function buildStage(stage, built) {
  const label = ({ step, line }) => `[${stage.name} ${step}/${all.length}] ${line.length > 110 ? `${line.slice(0, 107)}...` : line}`;
  const major = /^node:(\d+)/.exec(stage.image)?.[1];
  if (major && major !== process.versions.node.split('.')[0]) log(`note: ${stage.image} stands in by node ${process.version}`);
  stage.config = { user: 'root', expose: [], cmd: undefined, healthcheck: undefined };
  if (!options['no-build']) {
    rmSync(stage.root, { recursive: true, force: true });
    mkdirSync(stage.root, { recursive: true });
    log(`${label(stage.from)} (0.0s)`);
  }
  for (const instruction of stage.instructions) {
    const { keyword, rest, line } = instruction;
    const stepStarted = Date.now();
    const scope = { ...stage.args, ...stage.env };
    switch (keyword) {
      case 'ARG': {
        const [, name, fallback] = /^(\w+)(?:=(.*))?$/.exec(rest);
        stage.args[name] = buildArgs[name] ?? (fallback !== undefined ? expand(fallback, scope) : globalArgs[name]);
        break;
      }
      case 'FROM':
        break;
      case 'ENV':
        for (const [, name, quoted, plain] of rest.matchAll(/(\w+)=(?:"([^"]*)"|(\S*))/g)) stage.env[name] = expand(quoted ?? plain, scope);
        break;
      case 'WORKDIR':
        stage.workdir = path.posix.resolve(stage.workdir, expand(rest, scope));
        if (!options['no-build']) mkdirSync(path.join(stage.root, stage.workdir), { recursive: true });
        break;
      case 'COPY': {
        if (options['no-build']) continue;
        const parsed = flags(rest);
        const words = parsed.rest.split(/\s+/).map((word) => expand(word, scope));
        const destination = words.pop();
        const from = parsed.flags.from && stages.slice(0, stages.indexOf(stage)).find((candidate) => candidate.name === parsed.flags.from);
        if (parsed.flags.from && !from) fail(`COPY --from=${parsed.flags.from}: no earlier stage of that name`);
        if (from) await built.get(from);
        const target = path.join(stage.root, path.posix.resolve(stage.workdir, destination));
        for (const source of words) {
          const sourcePath = from ? path.join(from.root, path.posix.resolve(from.workdir, source)) : path.join(context, source);
          if (!existsSync(sourcePath) || (!from && ignored(path.relative(context, sourcePath)))) fail(`${line}: ${source} not found`);
          const into = destination.endsWith('/') || words.length > 1 ? path.join(target, path.basename(source)) : target;
          const filter = from ? undefined : (file) => !ignored(path.relative(context, file)) || file === context;
          cpSync(sourcePath, into, { recursive: true, verbatimSymlinks: true, filter });
        }
        if (parsed.flags.chown) {
          const ids = userIds(parsed.flags.chown.split(':')[0]);
          if (ids) spawnSync('chown', ['-R', `${ids.uid}:${ids.gid}`, target]);
          else log(`note: --chown=${parsed.flags.chown} ignored, no such user here`);
        }
        break;
      }
      case 'RUN': {
        if (options['no-build']) continue;
        const command = flags(rest).rest;
        log(label(instruction));
        const env = { PATH: hostPath, HOME: os.homedir(), ...hostNetwork, ...stage.args, ...stage.env };
        const result = await runProcess(commandOf(command), {
          cwd: path.join(stage.root, stage.workdir),
          env: Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined)),
          output: (chunk) => process.stderr.write(chunk),
        });
        if (result.code !== 0) fail(`${line}: exit code ${result.code} after ${seconds(stepStarted)}`);
        break;
      }
      case 'USER':
        stage.config.user = expand(rest, scope);
        break;
      case 'EXPOSE':
        stage.config.expose.push(...expand(rest, scope).split(/\s+/));
        break;
      case 'HEALTHCHECK': {
        const parsed = flags(rest);
        stage.config.healthcheck = { ...parsed.flags, command: commandOf(parsed.rest.replace(/^CMD\s+/, '')) };
        break;
      }
      case 'CMD':
        stage.config.cmd = commandOf(rest);
        break;
      default:
        fail(`${keyword} is not supported`);
    }
    if (!options['no-build'] && ['COPY', 'RUN'].includes(keyword)) log(`${label(instruction)} (${seconds(stepStarted)})`);
  }
}

// As BuildKit does, stages that do not depend on each other build side by side.
const built = new Map();
for (const stage of stages) built.set(stage, buildStage(stage, built));
await Promise.all(built.values());

const final = stages.at(-1);
// As of an image, only the final stage remains.
if (!options['no-build']) for (const built of stages.slice(0, -1)) rmSync(built.root, { recursive: true, force: true });
if (!existsSync(path.join(final.root, final.workdir))) fail(`${final.root} was not built`);
log(`built ${stages.map((s) => s.name).join(', ')} in ${seconds(started)}; runtime root ${final.root}; EXPOSE ${final.config.expose.join(' ')}; USER ${final.config.user}`);

const ids = final.config.user === 'root' ? undefined : userIds(final.config.user);
if (final.config.user !== 'root' && !ids) log(`note: USER ${final.config.user} does not exist here; runs as uid ${process.getuid?.()}`);
if (ids) for (let dir = final.root; dir !== path.dirname(dir) && dir.startsWith(root); dir = path.dirname(dir)) chmodSync(dir, 0o755);
const containerEnv = { PATH: hostPath, ...final.env, ...runEnv };
const cwd = path.join(final.root, final.workdir);
const cleanup = () => options.root || rmSync(root, { recursive: true, force: true });
const output = [];
const collect = (chunk) => output.push(chunk);
const tail = () => Buffer.concat(output).toString('utf8').split('\n').slice(-60).join('\n');

if (options.command) {
  const runStarted = Date.now();
  const command = options.command.split(/\s+/).filter(Boolean);
  const result = await runProcess(command, { cwd, env: containerEnv, ids, output: (chunk) => process.stdout.write(chunk) });
  log(`command ${options.command}: exit code ${result.code} (${seconds(runStarted)})`);
  cleanup();
  process.exit(result.code);
}

/** A Dockerfile duration (500ms, 10s, 1m, 1h) in milliseconds. */
function duration(value, fallbackSeconds) {
  if (!value) return fallbackSeconds * 1000;
  const [, amount, unit] = /^([\d.]+)(ms|s|m|h)$/.exec(value) ?? fail(`unreadable duration ${value}`);
  return Number(amount) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit];
}
const check = final.config.healthcheck;
if (!final.config.cmd || !check) fail('the final stage needs a CMD and a HEALTHCHECK');
const serviceStarted = Date.now();
serving = true;
const service = spawn(final.config.cmd[0], final.config.cmd.slice(1), { cwd, env: containerEnv, ...ids, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
service.stdout.on('data', collect);
service.stderr.on('data', collect);
let exited;
service.on('exit', (code, signal) => (exited = { code, signal }));
log(`started ${final.config.cmd.join(' ')} (pid ${service.pid})`);
let signalled = false;
const signal = new Promise((resolve) => {
  for (const name of ['SIGTERM', 'SIGINT']) process.once(name, () => resolve((signalled = true)));
});

async function stop() {
  if (exited) return;
  const gone = new Promise((resolve) => service.once('exit', resolve));
  process.kill(-service.pid, 'SIGTERM');
  const killTimer = setTimeout(() => exited || process.kill(-service.pid, 'SIGKILL'), 10_000);
  await gone;
  clearTimeout(killTimer);
}

// Docker's schedule: checks every --start-interval within --start-period (failures there do not count),
// then every --interval until --retries consecutive failures mark the container unhealthy.
const interval = duration(check.interval, 30);
const startInterval = duration(check['start-interval'], 5);
const startPeriod = duration(check['start-period'], 0);
const timeout = duration(check.timeout, 30);
const deadline = serviceStarted + Number(options.timeout) * 1000;
let failures = 0;
let healthy = false;
let attempts = 0;
while (!exited && !signalled && Date.now() < deadline) {
  const inStartPeriod = Date.now() - serviceStarted < startPeriod;
  await Promise.race([signal, new Promise((resolve) => setTimeout(resolve, inStartPeriod ? startInterval : interval))]);
  if (exited || signalled) break;
  attempts++;
  const probe = spawn(check.command[0], check.command.slice(1), { cwd, env: containerEnv, ...ids, stdio: 'ignore' });
  const probeTimer = setTimeout(() => probe.kill('SIGKILL'), timeout);
  const code = await new Promise((resolve) => probe.on('close', (exitCode) => resolve(exitCode ?? 1)));
  clearTimeout(probeTimer);
  if (code === 0) {
    healthy = true;
    break;
  }
  if (!(Date.now() - serviceStarted < startPeriod) && ++failures >= Number(check.retries ?? 3)) break;
}

if (!healthy) {
  const reason = exited
    ? `service exited (${exited.signal ?? exited.code}) before it was healthy`
    : signalled
      ? 'interrupted before the service was healthy'
      : `unhealthy after ${attempts} checks (${seconds(serviceStarted)})`;
  await stop();
  log(tail());
  log(reason);
  cleanup();
  process.exit(1);
}
log(`healthy after ${attempts} check(s), ${seconds(serviceStarted)} from start (${seconds(started)} in all)`);
const exitedOnItsOwn = options.hold && (exited !== undefined || await Promise.race([signal.then(() => false), new Promise((resolve) => service.once('exit', () => resolve(true)))]));
if (exitedOnItsOwn) log(`${tail()}\nservice exited (${exited.signal ?? exited.code}) while held`);
const stopStarted = Date.now();
await stop();
log(`stopped (${exited.signal ?? `exit code ${exited.code}`}) in ${seconds(stopStarted)}`);
cleanup();
process.exitCode = exitedOnItsOwn ? 1 : 0;
