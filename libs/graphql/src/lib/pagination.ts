import { Type } from '@nestjs/common';
import { ArgsType, Directive, Field, Int, ObjectType } from '@nestjs/graphql';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
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

export function pageSizeOf(args: ConnectionArgs): number {
  return args.first ?? DEFAULT_PAGE_SIZE;
}
