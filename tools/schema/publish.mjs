// Composes the supergraph with new service schemas and prints it as the ConfigMap the gateway loads:
//   npm run schema:publish -- [<service>=<SDL file or URL> ...] [--supergraph FILE] [--name NAME]
//                             [--namespace NS] [--write] [--out FILE]
// The services not named keep the schema they have in the supergraph file (default
// deploy/supergraph.graphql). --write also rewrites that file. The manifest (ConfigMap NAME,
// default multipult-supergraph, key supergraph.graphql) goes to stdout, or to --out, so
//   npm run --silent schema:publish -- content=content.graphql | kubectl apply -f -
// hands it to the cluster, where the gateway picks it up within SUPERGRAPH_WATCH_SECONDS.
import { readFile, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { DEFAULT_SUPERGRAPH_FILE, composeWith, parseArgs, readSdl, runCli, subgraphsOf } from './supergraph.mjs';

const SUPERGRAPH_KEY = 'supergraph.graphql';

/** The ConfigMap the gateway's chart mounts at SUPERGRAPH_PATH (value supergraph.configMapName). */
function supergraphConfigMap(supergraphSdl, { name, namespace }) {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name,
      ...(namespace ? { namespace } : {}),
      labels: { 'app.kubernetes.io/part-of': 'multipult', 'app.kubernetes.io/component': 'supergraph' },
    },
    data: { [SUPERGRAPH_KEY]: supergraphSdl },
  };
}

async function main(argv) {
  const args = parseArgs(argv, { options: ['supergraph', 'name', 'namespace', 'out'], flags: ['write'] });
  const supergraphFile = args.supergraph ?? DEFAULT_SUPERGRAPH_FILE;
  const replacements = {};
  for (const pair of args.positional) {
    const separator = pair.indexOf('=');
    if (separator < 1) throw new Error(`expected <service>=<SDL file or URL>, got "${pair}"`);
    replacements[pair.slice(0, separator)] = await readSdl(pair.slice(separator + 1));
  }
  const composed = composeWith(subgraphsOf(await readFile(supergraphFile, 'utf8')), replacements);
  if (composed.errors) {
    process.stderr.write(`composition errors (${composed.errors.length})\n${composed.errors.map((message) => `  - ${message}\n`).join('')}`);
    return 1;
  }
  if (args.write) {
    await writeFile(supergraphFile, composed.supergraphSdl);
    process.stderr.write(`wrote ${supergraphFile}\n`);
  }
  const manifest = stringify(supergraphConfigMap(composed.supergraphSdl, { name: args.name ?? 'multipult-supergraph', namespace: args.namespace }), {
    lineWidth: 0,
  });
  if (args.out) {
    await writeFile(args.out, manifest);
    process.stderr.write(`wrote ${args.out}\n`);
  } else {
    process.stdout.write(manifest);
  }
  return 0;
}

runCli(main);
