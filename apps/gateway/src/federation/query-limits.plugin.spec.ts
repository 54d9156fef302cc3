import { FragmentDefinitionNode, Kind, OperationDefinitionNode, parse } from 'graphql';
import { operationDepth } from './query-limits.plugin';

function depthOf(query: string): number {
  const document = parse(query);
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  }
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
  return operationDepth(operation.selectionSet, fragments);
}

describe('operationDepth', () => {
  it('counts nested fields', () => {
    expect(depthOf('{ me { id } }')).toBe(2);
    expect(depthOf('{ a { b { c { d } } } e }')).toBe(4);
  });

  it('follows fragments and inline fragments', () => {
    expect(depthOf('{ a { ...F } } fragment F on T { b { c } }')).toBe(3);
    expect(depthOf('{ a { ... on T { b { c { d } } } } }')).toBe(4);
  });

  it('terminates on fragment cycles', () => {
    expect(depthOf('{ a { ...F } } fragment F on T { b { ...G } } fragment G on T { c { ...F } }')).toBeGreaterThan(0);
  });
});
