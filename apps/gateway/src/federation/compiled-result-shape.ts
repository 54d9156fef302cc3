import {
  CompositeType,
  Directive,
  EnumType,
  ObjectType,
  Operation,
  ScalarType,
  Schema,
  SelectionSet,
  Type,
  Variable,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isValidLeafValue,
  typenameFieldName,
} from '@apollo/federation-internals';

/** A @skip (skip: true) or @include (skip: false) on a selection: its `if` as a variable name or a literal. */
interface Condition {
  skip: boolean;
  variable: string | undefined;
  literal: unknown;
}

type Shape =
  | { kind: 'nonNull'; of: Shape }
  | { kind: 'list'; of: Shape }
  | { kind: 'object'; typeName: string; fields: ShapedField[] }
  | { kind: 'leaf'; type: ScalarType | EnumType };

interface ShapedField {
  responseName: string;
  conditions: Condition[];
  /** A `__typename` selection: answered with the object's type name. */
  typename: boolean;
  shape: Shape | undefined;
}

type ResultObject = Record<string, unknown>;

/** Thrown for anything computeResponse would answer differently than the common case shaped here; the caller asks computeResponse. */
export class ShapeNotCovered extends Error {}

/**
 * Apollo's result shaping (computeResponse of @apollo/gateway) for an operation over object types
 * only, compiled once per planned operation instead of walking its selection sets and directives
 * per request: the client's fields in its order, aliases, fragments on the type they are spread
 * in, @skip/@include and `__typename`. Anything else it refuses when compiled (abstract types, fragments on other types, a response name selected twice)
 * or throws ShapeNotCovered for when met in the data (a null in a non-null field, whose propagation
 * computeResponse reports, a __typename of another type, a value not of its type, a condition
 * variable that is not a boolean), so that computeResponse answers instead.
 */
export class CompiledResultShape {
  private constructor(
    private readonly rootTypeName: string,
    private readonly fields: ShapedField[],
    private readonly defaultedVariables: Record<string, unknown>,
    private readonly schema: Schema,
  ) {}

  static of(operation: Operation): CompiledResultShape | undefined {
    const schema = operation.schema();
    const root = schema.schemaDefinition.rootType(operation.rootKind);
    if (!root) return undefined;
    const fields = fieldsOf(operation.selectionSet, root, [], schema);
    return fields && new CompiledResultShape(root.name, fields, operation.collectDefaultedVariableValues(), schema);
  }

  /**
   * The client's data from the merged subgraph answers, as computeResponse shapes it when it finds
   * nothing to report: a null in a non-null field throws ShapeNotCovered, for computeResponse to
   * shape the data again with its errors.
   */
  shape(input: ResultObject, variables: Record<string, unknown> | undefined): ResultObject {
    const values: Record<string, unknown> = { __proto__: null, ...this.defaultedVariables, ...variables };
    return this.object(input, this.fields, values, this.rootTypeName);
  }

  private object(input: ResultObject, fields: ShapedField[], variables: Record<string, unknown>, typeName: string): ResultObject {
    const output: ResultObject = Object.create(null);
    for (const field of fields) {
      if (field.conditions.length && skipped(field.conditions, variables)) continue;
      let value = Object.prototype.hasOwnProperty.call(input, field.responseName) ? (input[field.responseName] ?? null) : null;
      if (field.typename) {
        if (value === null && field.responseName !== typenameFieldName) value = input[typenameFieldName] ?? null;
        if (value !== null && value !== typeName) throw new ShapeNotCovered();
        output[field.responseName] = typeName;
        continue;
      }
      output[field.responseName] = this.value(value, field.shape as Shape, variables);
    }
    return output;
  }

  private value(value: unknown, shape: Shape, variables: Record<string, unknown>): unknown {
    if (shape.kind === 'nonNull') {
      const shaped = this.value(value, shape.of, variables);
      if (shaped === null) throw new ShapeNotCovered();
      return shaped;
    }
    if (value === null) return null;
    switch (shape.kind) {
      case 'list': {
        if (!Array.isArray(value)) throw new ShapeNotCovered();
        return value.map((element: unknown) => {
          if (element === undefined) throw new ShapeNotCovered();
          return this.value(element, shape.of, variables);
        });
      }
      case 'object': {
        if (typeof value !== 'object' || Array.isArray(value)) throw new ShapeNotCovered();
        const typename = (value as ResultObject)[typenameFieldName];
        if (typename && typename !== shape.typeName) throw new ShapeNotCovered();
        return this.object(value as ResultObject, shape.fields, variables, shape.typeName);
      }
      case 'leaf':
        if (!isValidLeafValue(this.schema, value, shape.type)) throw new ShapeNotCovered();
        return value;
    }
  }
}

function skipped(conditions: Condition[], variables: Record<string, unknown>): boolean {
  for (const { skip, variable, literal } of conditions) {
    const value = variable === undefined ? literal : variables[variable];
    if (typeof value !== 'boolean') throw new ShapeNotCovered();
    if (value === skip) return true;
  }
  return false;
}

function conditionsOf(directives: readonly Directive<never>[], schema: Schema): Condition[] | undefined {
  const conditions: Condition[] = [];
  for (const directive of directives) {
    const skip = directive.definition === schema.skipDirective();
    if (!skip && directive.definition !== schema.includeDirective()) return undefined;
    const condition = (directive.arguments() as { if: unknown }).if;
    conditions.push(condition instanceof Variable ? { skip, variable: condition.name, literal: undefined } : { skip, variable: undefined, literal: condition });
  }
  // computeResponse reads @skip before @include, whatever their order.
  return conditions.sort((a, b) => Number(b.skip) - Number(a.skip));
}

/** The selections of an object type, fragments on that type flattened in place; undefined when not covered. */
function fieldsOf(selectionSet: SelectionSet, parent: CompositeType, inherited: Condition[], schema: Schema): ShapedField[] | undefined {
  if (!isObjectType(parent)) return undefined;
  const fields: ShapedField[] = [];
  for (const selection of selectionSet.selections()) {
    const own = conditionsOf(selection.element.appliedDirectives as Directive<never>[], schema);
    if (!own) return undefined;
    const conditions = [...inherited, ...own];
    if (selection.kind === 'FragmentSelection') {
      const condition = selection.element.typeCondition;
      if (condition && condition.name !== parent.name) return undefined;
      const inner = fieldsOf(selection.selectionSet, parent, conditions, schema);
      if (!inner) return undefined;
      fields.push(...inner);
      continue;
    }
    const field = selection.element;
    if (field.definition.isSchemaIntrospectionField()) return undefined;
    if (field.name === typenameFieldName) {
      fields.push({ responseName: field.responseName(), conditions, typename: true, shape: undefined });
      continue;
    }
    const shape = shapeOf(field.definition.type as Type, selection.selectionSet, schema);
    if (!shape) return undefined;
    fields.push({ responseName: field.responseName(), conditions, typename: false, shape });
  }
  // A response name selected twice is merged by computeResponse; not covered here.
  return new Set(fields.map(({ responseName }) => responseName)).size === fields.length ? fields : undefined;
}

function shapeOf(type: Type, selectionSet: SelectionSet | undefined, schema: Schema): Shape | undefined {
  if (isNonNullType(type)) {
    const of = shapeOf(type.ofType, selectionSet, schema);
    return of && { kind: 'nonNull', of };
  }
  if (isListType(type)) {
    const of = shapeOf(type.ofType, selectionSet, schema);
    return of && { kind: 'list', of };
  }
  if (isScalarType(type) || isEnumType(type)) return { kind: 'leaf', type };
  if (isObjectType(type) && selectionSet) {
    const fields = fieldsOf(selectionSet, type as ObjectType, [], schema);
    return fields && { kind: 'object', typeName: type.name, fields };
  }
  return undefined;
}
