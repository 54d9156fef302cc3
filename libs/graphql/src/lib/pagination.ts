import { Type } from '@nestjs/common';
import { ArgsType, Directive, Field, Int, ObjectType } from '@nestjs/graphql';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { BadUserInputError } from './errors';
import { keyed } from './validation';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

@ArgsType()
export class ConnectionArgs {
  @Field(() => Int, { nullable: true, description: `Page size, ${DEFAULT_PAGE_SIZE} by default, at most ${MAX_PAGE_SIZE}` })
  @IsOptional()
  @IsInt()
  @Min(1, { message: keyed('validation.min') })
  @Max(MAX_PAGE_SIZE, { message: keyed('validation.max') })
  first?: number;

  @Field(() => String, { nullable: true, description: 'Cursor of the last item of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(512, { message: keyed('validation.maxLength') })
  after?: string;
}

/** Every subgraph declares it; `@shareable` lets federation resolve it from any of them. */
@ObjectType()
@Directive('@shareable')
export class PageInfo {
  @Field()
  hasNextPage: boolean;

  @Field(() => String, { nullable: true })
  endCursor: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
  totalCount: number;
}

/** Declares `<Name>Connection` and `<Name>Edge` GraphQL types for a node type. */
export function ConnectionType<T>(nodeType: Type<T>, name = nodeType.name): Type<Connection<T>> {
  @ObjectType(`${name}Edge`)
  class EdgeType {
    @Field()
    cursor: string;

    @Field(() => nodeType)
    node: T;
  }

  @ObjectType(`${name}Connection`)
  class ConnectionClass {
    @Field(() => [EdgeType])
    edges: EdgeType[];

    @Field(() => PageInfo)
    pageInfo: PageInfo;

    @Field(() => Int)
    totalCount: number;
  }
  return ConnectionClass as Type<Connection<T>>;
}

/** Keyset cursor over (sort value, id): stable under inserts, unlike offsets. */
export interface KeysetCursor {
  sortValue: string;
  id: string;
}

export function encodeCursor(cursor: KeysetCursor): string {
  return Buffer.from(JSON.stringify([cursor.sortValue, cursor.id])).toString('base64url');
}

export function decodeCursor(cursor: string, field = 'after'): KeysetCursor {
  try {
    const [sortValue, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof sortValue === 'string' && typeof id === 'string') return { sortValue, id };
  } catch {
    // falls through to the typed error below
  }
  throw BadUserInputError.field(field, 'validation.invalid');
}

/** Builds a connection from `pageSize + 1` rows fetched in order (the extra row tells whether more exist). */
export function toConnection<T>(
  rows: T[],
  pageSize: number,
  totalCount: number,
  cursorOf: (row: T) => KeysetCursor,
): Connection<T> {
  const page = rows.slice(0, pageSize);
  const edges = page.map((node) => ({ node, cursor: encodeCursor(cursorOf(node)) }));
  return {
    edges,
    totalCount,
    pageInfo: { hasNextPage: rows.length > pageSize, endCursor: edges.at(-1)?.cursor ?? null },
  };
}

export function pageSizeOf(args: ConnectionArgs): number {
  return args.first ?? DEFAULT_PAGE_SIZE;
}
