// Checks one service's new schema against the supergraph in production before it ships:
//   npm run schema:check -- <service> [--sdl FILE | --url URL] [--supergraph FILE] [--allow-breaking]
// The new SDL comes from --sdl, else from the running service at --url, else from the service at
// the port `npm start` gives it. The other services' SDLs are extracted from the supergraph file
// (default deploy/supergraph.graphql). Prints every composition error and every client-facing
// change (breaking, dangerous, safe); exits 1 on composition errors, or on breaking changes
// unless --allow-breaking.
import { readFile } from 'node:fs/promises';
import { DEFAULT_SUPERGRAPH_FILE, REGISTRY, apiChanges, composeWith, localUrlOf, parseArgs, readSdl, runCli, subgraphsOf } from './supergraph.mjs';

const USAGE = 'usage: npm run schema:check -- <service> [--sdl FILE | --url URL] [--supergraph FILE] [--allow-breaking]';

function printChanges(title, changes) {
  process.stdout.write(`${title} (${changes.length})\n`);
  for (const change of changes) process.stdout.write(`  - ${change.message}${change.path ? ` [${change.path}]` : ''}\n`);
}

async function main(argv) {
  const args = parseArgs(argv, { options: ['sdl', 'url', 'supergraph'], flags: ['allow-breaking'] });
  const [service, ...extra] = args.positional;
  if (!service || extra.length) throw new Error(USAGE);
  const supergraphFile = args.supergraph ?? DEFAULT_SUPERGRAPH_FILE;
  const current = await readFile(supergraphFile, 'utf8');
  const subgraphs = subgraphsOf(current);
  if (!subgraphs.get(service) && !REGISTRY.services.some(({ name }) => name === service)) {
    throw new Error(`${service} is neither a subgraph of ${supergraphFile} nor a service of libs/registry/src/services.json`);
  }
  const source = args.sdl ?? args.url ?? localUrlOf(service);
  if (!source) throw new Error(`${service}: give its new schema with --sdl FILE or --url URL`);
  const sdl = await readSdl(source);
  process.stdout.write(`checking ${service} (${source}) against ${supergraphFile}\n`);

  const composed = composeWith(subgraphs, { [service]: sdl });
  if (composed.errors) {
    process.stdout.write(`composition errors (${composed.errors.length})\n`);
    for (const message of composed.errors) process.stdout.write(`  - ${message}\n`);
    process.stdout.write(`FAILED: ${service}'s schema does not compose with the other services\n`);
    return 1;
  }
  process.stdout.write(`composition: ok (${subgraphs.names().length + (subgraphs.get(service) ? 0 : 1)} subgraphs)\n`);

  const { breaking, dangerous, safe } = await apiChanges(current, composed.supergraphSdl);
  printChanges('breaking changes', breaking);
  printChanges('dangerous changes', dangerous);
  printChanges('safe changes', safe);
  if (breaking.length && !args['allow-breaking']) {
    process.stdout.write(`FAILED: ${breaking.length} breaking change(s) for clients (--allow-breaking to ship them anyway)\n`);
    return 1;
  }
  process.stdout.write(breaking.length ? `passed with ${breaking.length} breaking change(s) allowed\n` : 'passed\n');
  return 0;
}

runCli(main);
