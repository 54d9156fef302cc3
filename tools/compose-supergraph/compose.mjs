// Composes the supergraph from each subgraph's SDL (`_service { sdl }`) with @apollo/composition.
//   node tools/compose-supergraph/compose.mjs --subgraph auth=http://127.0.0.1:4001/graphql [--out FILE] [--check FILE]
// Without arguments (npm run compose-supergraph) it reads the registry's subgraphs `npm start` runs and
// rewrites deploy/supergraph.graphql, the file images ship and the gateway loads in production.
// Composition errors exit 1 with every error listed, so they fail CI rather than a gateway start.
import { composeServices } from '@apollo/composition';
import { readFile, writeFile } from 'node:fs/promises';
import { parse } from 'graphql';

const registry = JSON.parse(await readFile(new URL('../../libs/registry/src/services.json', import.meta.url), 'utf8'));
/** The subgraphs of the service registry at the ports `npm start` gives them. */
const DEFAULT_SUBGRAPHS = registry.services.map(({ name, port }) => `${name}=http://127.0.0.1:${port}/graphql`);
const DEFAULT_SUPERGRAPH_FILE = new URL('../../deploy/supergraph.graphql', import.meta.url).pathname;

export async function fetchSubgraphSdl(url, { timeoutMs = 10_000 } = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ _service { sdl } }' }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = await response.json();
  const sdl = body?.data?._service?.sdl;
  if (!sdl) throw new Error(`${url} returned no subgraph SDL: ${JSON.stringify(body).slice(0, 500)}`);
  return sdl;
}

/** @param {{name: string, url: string}[]} subgraphs */
export async function composeSupergraph(subgraphs) {
  const services = await Promise.all(
    subgraphs.map(async ({ name, url }) => ({ name, url, typeDefs: parse(await fetchSubgraphSdl(url)) })),
  );
  const result = composeServices(services);
  if (result.errors?.length) {
    const error = new Error(`supergraph composition failed:\n${result.errors.map((e) => `  - ${e.message}`).join('\n')}`);
    error.compositionErrors = result.errors;
    throw error;
  }
  return result.supergraphSdl;
}

/** Routing URLs differ per environment (the gateway overrides them with SUBGRAPHS); the schema must not. */
export function withoutRoutingUrls(supergraph) {
  return supergraph.replace(/(@join__graph\(name: "[^"]+", url: )"[^"]*"/g, '$1""');
}

export function parseSubgraphArgs(values) {
  return values.map((pair) => {
    const [name, url] = pair.split('=');
    if (!name || !url) throw new Error(`expected name=url, got "${pair}"`);
    return { name, url };
  });
}

async function cli(argv) {
  const subgraphs = [];
  let out;
  let check;
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--subgraph') subgraphs.push(argv[(i += 1)]);
    else if (argv[i] === '--out') out = argv[(i += 1)];
    else if (argv[i] === '--check') check = argv[(i += 1)];
    else throw new Error(`unknown argument ${argv[i]}`);
  }
  if (!subgraphs.length && !out && !check) {
    subgraphs.push(...DEFAULT_SUBGRAPHS);
    out = DEFAULT_SUPERGRAPH_FILE;
  }
  if (!subgraphs.length) throw new Error('at least one --subgraph name=url is required');
  const supergraph = await composeSupergraph(parseSubgraphArgs(subgraphs));
  if (check) {
    const committed = await readFile(check, 'utf8').catch(() => '');
    if (withoutRoutingUrls(committed) !== withoutRoutingUrls(supergraph)) {
      throw new Error(`${check} is out of date: run npm run compose-supergraph and commit the result`);
    }
    process.stdout.write(`${check} matches the composed supergraph\n`);
  }
  if (out) {
    await writeFile(out, supergraph);
    process.stdout.write(`wrote ${out}\n`);
  }
  if (!out && !check) process.stdout.write(supergraph);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  cli(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  });
}
