import {
  DirectiveNode,
  DocumentNode,
  FragmentDefinitionNode,
  GraphQLError,
  Kind,
  OperationDefinitionNode,
  OperationTypeNode,
  GraphQLSchema,
  SelectionSetNode,
  parse,
  validate,
} from 'graphql';
import { Supergraph } from '@apollo/federation-internals';
import { BadUserInputError } from '@multipult/graphql';
import { QueryLimits, documentParseOptions, documentValidationRules } from '../federation/query-limits.plugin';

/** A subgraph as the supergraph names it, with the URL of its /graphql endpoint. */
export interface Subgraph {
  name: string;
  url: string | undefined;
}

type OwnersByOperation = Record<OperationTypeNode, Map<string, Subgraph>>;

function argument(directive: DirectiveNode, name: string): string | boolean | undefined {
  const value = directive.arguments?.find((arg) => arg.name.value === name)?.value;
  if (value?.kind === Kind.ENUM || value?.kind === Kind.STRING) return value.value;
  if (value?.kind === Kind.BOOLEAN) return value.value;
  return undefined;
}

function directives(node: { directives?: readonly DirectiveNode[] }, name: string): DirectiveNode[] {
  return (node.directives ?? []).filter((directive) => directive.name.value === name);
}

/**
 * The subgraphs of a supergraph by their join__Graph enum value, with their routing URLs; `urls`
 * overrides the URLs recorded in the file (SUBGRAPHS).
 */
function subgraphsOf(document: DocumentNode, urls: ReadonlyMap<string, string>): Map<string, Subgraph> {
  const graphs = new Map<string, Subgraph>();
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.ENUM_TYPE_DEFINITION || definition.name.value !== 'join__Graph') continue;
    for (const value of definition.values ?? []) {
      const [graph] = directives(value, 'join__graph');
      const name = graph && argument(graph, 'name');
      if (typeof name !== 'string') continue;
      const recorded = argument(graph, 'url');
      graphs.set(value.name.value, { name, url: urls.get(name) ?? (typeof recorded === 'string' && recorded ? recorded : undefined) });
    }
  }
  return graphs;
}

/**
 * Which subgraph owns each root field (Query, Mutation, Subscription) of a supergraph: the graph of
 * the field's join__field, else of its type's only join__type. `urls` overrides the routing URLs
 * recorded in the file (SUBGRAPHS).
 */
export function rootFieldOwners(supergraphSdl: string, urls: ReadonlyMap<string, string> = new Map()): OwnersByOperation {
  const document = parse(supergraphSdl);
  return ownersIn(document, subgraphsOf(document, urls));
}

function ownersIn(document: DocumentNode, graphs: ReadonlyMap<string, Subgraph>): OwnersByOperation {
  const rootTypes: Record<OperationTypeNode, string> = { query: 'Query', mutation: 'Mutation', subscription: 'Subscription' };
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.SCHEMA_DEFINITION) continue;
    for (const operationType of definition.operationTypes) rootTypes[operationType.operation] = operationType.type.name.value;
  }
  const owners: OwnersByOperation = { query: new Map(), mutation: new Map(), subscription: new Map() };
  for (const operation of Object.keys(rootTypes) as OperationTypeNode[]) {
    for (const definition of document.definitions) {
      const isType = definition.kind === Kind.OBJECT_TYPE_DEFINITION || definition.kind === Kind.OBJECT_TYPE_EXTENSION;
      if (!isType || definition.name.value !== rootTypes[operation]) continue;
      const typeGraphs = directives(definition, 'join__type').map((directive) => argument(directive, 'graph'));
      for (const field of definition.fields ?? []) {
        const fieldGraphs = directives(field, 'join__field')
          .filter((directive) => argument(directive, 'external') !== true)
          .map((directive) => argument(directive, 'graph'));
        const [graph] = fieldGraphs.length ? fieldGraphs : typeGraphs.length === 1 ? typeGraphs : [];
        const subgraph = typeof graph === 'string' ? graphs.get(graph) : undefined;
        if (subgraph) owners[operation].set(field.name.value, subgraph);
      }
    }
  }
  return owners;
}

function rootFieldNames(selectionSet: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, seen = new Set<string>()): string[] {
  return selectionSet.selections.flatMap((selection) => {
    if (selection.kind === Kind.FIELD) return selection.name.value.startsWith('__') ? [] : [selection.name.value];
    if (selection.kind === Kind.INLINE_FRAGMENT) return rootFieldNames(selection.selectionSet, fragments, seen);
    const fragment = fragments.get(selection.name.value);
    if (!fragment || seen.has(fragment.name.value)) return [];
    seen.add(fragment.name.value);
    return rootFieldNames(fragment.selectionSet, fragments, seen);
  });
}

/**
 * The routing table of /graphql/ws, replaced whenever the gateway loads a supergraph: an operation
 * goes to the subgraph that owns its root fields.
 */
export class SupergraphRoutes {
  private owners?: OwnersByOperation;
  private subgraphs = new Map<string, Subgraph>();
  private apiSchema?: GraphQLSchema;

  /** With `limits`, operations sent over /graphql/ws meet the token, alias and directive limits of HTTP ones. */
  constructor(
    private readonly urls: ReadonlyMap<string, string> = new Map(),
    private readonly limits?: Pick<QueryLimits, 'maxTokens' | 'maxAliases' | 'maxDirectives'>,
  ) {}

  get loaded(): boolean {
    return this.owners !== undefined;
  }

  update(supergraphSdl: string): void {
    const document = parse(supergraphSdl);
    const graphs = subgraphsOf(document, this.urls);
    this.owners = ownersIn(document, graphs);
    this.subgraphs = new Map([...graphs.values()].map((graph) => [graph.name, graph]));
    if (this.limits) this.apiSchema = Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema();
  }

  /** A subgraph of the loaded supergraph by name, with its routing URL (as GraphQL requests are routed). */
  subgraph(name: string): Subgraph | undefined {
    return this.subgraphs.get(name);
  }

  /** The subgraph one operation goes to; BAD_USER_INPUT for unknown fields and for fields of several subgraphs. */
  route(query: string, operationName?: string | null): Subgraph {
    let document: DocumentNode;
    try {
      document = parse(query, this.limits && documentParseOptions(this.limits));
    } catch (error) {
      throw new GraphQLError((error as GraphQLError).message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
    }
    if (this.limits && this.apiSchema) {
      const [overLimit] = validate(this.apiSchema, document, documentValidationRules(this.limits));
      if (overLimit) throw new GraphQLError(overLimit.message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    }
    const operations = document.definitions.filter((definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION);
    const operation = operationName ? operations.find((candidate) => candidate.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
    if (!operation) throw BadUserInputError.field('operationName', 'validation.noOperation', { operation: operationName ?? '' });
    const fragments = new Map(
      document.definitions
        .filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION)
        .map((fragment) => [fragment.name.value, fragment]),
    );
    const owners = this.owners?.[operation.operation];
    if (!owners) throw new Error('no supergraph loaded yet');
    const fields = [...new Set(rootFieldNames(operation.selectionSet, fragments))];
    const subgraphs = new Map<string, Subgraph>();
    for (const field of fields) {
      const owner = owners.get(field);
      if (!owner) throw BadUserInputError.field('query', 'validation.unknownRootField', { field, operation: operation.operation });
      subgraphs.set(owner.name, owner);
    }
    if (subgraphs.size > 1) {
      throw BadUserInputError.field('query', 'validation.rootFieldsOfSeveralServices', {
        fields: fields.join(', '),
        services: [...subgraphs.keys()].join(', '),
      });
    }
    // Only meta fields (__typename): any subgraph that owns fields of that operation answers it.
    const [subgraph] = subgraphs.size ? subgraphs.values() : owners.values();
    if (!subgraph) throw BadUserInputError.field('query', 'validation.noOperation', { operation: operation.operation });
    return subgraph;
  }
}
