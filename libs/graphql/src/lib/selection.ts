import { FieldNode, GraphQLResolveInfo, Kind, SelectionSetNode } from 'graphql';

/**
 * The fields selected on the value a resolver returns, at every depth, as dotted paths from it
 * (`totalCount`, `edges.node.highlight`), through fragments and inline fragments too, so a resolver
 * can skip work nobody asked for. Directives are not evaluated: a field under `@skip`/`@include`
 * counts as selected, which only costs the work, never a result.
 */
export function selectedFieldPaths(info: GraphQLResolveInfo): Set<string> {
  const paths = new Set<string>();
  const visit = (selectionSet: SelectionSetNode | undefined, prefix: string) => {
    for (const selection of selectionSet?.selections ?? []) {
      if (selection.kind === Kind.FIELD) {
        const path = `${prefix}${selection.name.value}`;
        paths.add(path);
        visit(selection.selectionSet, `${path}.`);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        visit(selection.selectionSet, prefix);
      } else {
        // Validation has refused fragment cycles, so following spreads ends.
        visit(info.fragments[selection.name.value]?.selectionSet, prefix);
      }
    }
  };
  for (const node of info.fieldNodes as readonly FieldNode[]) visit(node.selectionSet, '');
  return paths;
}
