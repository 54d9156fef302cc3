// What schema:check and schema:publish share: the current supergraph's subgraphs, composition with
// one service's new SDL in place of its old one, and the client-facing changes between supergraphs.
import { compose } from '@apollo/composition';
import { Subgraphs, Supergraph, buildSubgraph, errorCauses } from '@apollo/federation-internals';
import { diff } from '@graphql-inspector/core';
import { readFile } from 'node:fs/promises';
import { parseArgs as parseCommandLine } from 'node:util';
import { fetchSubgraphSdl } from '../compose-supergraph/compose.mjs';

export const REGISTRY = JSON.parse(await readFile(new URL('../../libs/registry/src/services.json', import.meta.url), 'utf8'));
export const DEFAULT_SUPERGRAPH_FILE = new URL('../../deploy/supergraph.graphql', import.meta.url).pathname;

/** The URL `npm start` serves a registry service's GraphQL on. */
export function localUrlOf(service) {
  const entry = REGISTRY.services.find(({ name }) => name === service);
  return entry ? `http://127.0.0.1:${entry.port}/graphql` : undefined;
}

/** A subgraph SDL from a file, or from a running service when `source` is an http(s) URL. */
export async function readSdl(source) {
  return /^https?:\/\//.test(source) ? fetchSubgraphSdl(source) : readFile(source, 'utf8');
}

/**
 * Extraction drops descriptions and @specifiedBy, which composition takes from the subgraphs:
 * put the supergraph's back on every subgraph element of the same name, so that composing the
 * extracted subgraphs again gives the same supergraph.
 */
function restoreDocumentation(subgraph, supergraphSchema) {
  for (const type of subgraph.schema.types()) {
    const composed = supergraphSchema.type(type.name);
    if (!composed) continue;
    if (composed.description) type.description = composed.description;
    for (const specifiedBy of composed.appliedDirectivesOf('specifiedBy')) {
      if (!type.appliedDirectivesOf('specifiedBy').length) type.applyDirective('specifiedBy', specifiedBy.arguments());
    }
    const members = type.kind === 'EnumType' ? type.values : 'fields' in type ? type.fields() : [];
    for (const member of members) {
      const composedMember = composed.kind === 'EnumType' ? composed.value(member.name) : composed.field?.(member.name);
      if (!composedMember) continue;
      if (composedMember.description) member.description = composedMember.description;
      if (!('arguments' in member)) continue;
      for (const argument of member.arguments()) {
        const description = composedMember.argument(argument.name)?.description;
        if (description) argument.description = description;
      }
    }
  }
}

/** The subgraphs a supergraph was composed from (name, routing URL, schema), in its order. */
export function subgraphsOf(supergraphSdl) {
  const supergraph = Supergraph.build(supergraphSdl);
  const subgraphs = supergraph.subgraphs();
  for (const subgraph of subgraphs) restoreDocumentation(subgraph, supergraph.schema);
  return subgraphs;
}

/**
 * Composes `current` with some subgraphs replaced or added (`replacements`: name → SDL; a new
 * one is routed to its `npm start` URL, which the gateway's SUBGRAPHS overrides per environment).
 * Returns `{ supergraphSdl }` or `{ errors }`, every composition error as a message.
 */
export function composeWith(current, replacements) {
  const byName = new Map(current.values().map((subgraph) => [subgraph.name, subgraph]));
  const errors = [];
  for (const [name, sdl] of Object.entries(replacements)) {
    try {
      byName.set(name, buildSubgraph(name, byName.get(name)?.url ?? localUrlOf(name) ?? '', sdl));
    } catch (error) {
      errors.push(...(errorCauses(error) ?? [error]).map((cause) => cause.message));
    }
  }
  if (errors.length) return { errors };
  const subgraphs = new Subgraphs();
  for (const name of [...byName.keys()].sort()) subgraphs.add(byName.get(name));
  const result = compose(subgraphs);
  if (result.errors) return { errors: result.errors.map((error) => error.message) };
  return { supergraphSdl: result.supergraphSdl };
}

/** What clients would see change between two supergraphs, by @graphql-inspector/core's criticality. */
export async function apiChanges(oldSupergraphSdl, newSupergraphSdl) {
  const apiSchema = (sdl) => Supergraph.build(sdl).apiSchema().toGraphQLJSSchema();
  const changes = await diff(apiSchema(oldSupergraphSdl), apiSchema(newSupergraphSdl));
  const of = (level) => changes.filter((change) => change.criticality.level === level);
  return { breaking: of('BREAKING'), dangerous: of('DANGEROUS'), safe: of('NON_BREAKING') };
}

/** `--name value` options and positional arguments (node:util parseArgs); `flags` lists the options without a value. */
export function parseArgs(argv, { options, flags }) {
  const { values, positionals } = parseCommandLine({
    args: argv,
    allowPositionals: true,
    options: Object.fromEntries([...options.map((name) => [name, { type: 'string' }]), ...flags.map((name) => [name, { type: 'boolean' }])]),
  });
  return { ...values, positional: positionals };
}

/** Runs a command's main, printing its error and exiting 1 on failure. */
export function runCli(main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code ?? 0),
    (error) => {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    },
  );
}
