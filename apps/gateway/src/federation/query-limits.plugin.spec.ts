import { Kind, OperationDefinitionNode, parse } from 'graphql';
import { fragmentsOf, operationDepth } from './query-limits.plugin';

function depthOf(query: string): number {
  const document = parse(query);
  const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
  return operationDepth(operation.selectionSet, fragmentsOf(document));
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
