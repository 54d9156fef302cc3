import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsDate,
  IsEnum,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { MAX_PAGE_SIZE, PageInfo, keyed } from '@multipult/graphql';
import { Author } from '../authors/author.entity';
import { Document, DocumentStatus, DocumentType } from '../documents/document.entity';
import { Tag } from '../tags/tag.entity';
import { DocumentTranslation } from '../translations/translation.entity';

export enum SearchSort {
  RELEVANCE = 'relevance',
  NEWEST = 'newest',
  POPULAR = 'popular',
}

export enum MatchMode {
  ANY = 'any',
  ALL = 'all',
}

/** Whether a count is exact or a lower bound (Elasticsearch's `total.relation`). */
export enum CountRelation {
  EQ = 'eq',
  GTE = 'gte',
}

registerEnumType(SearchSort, { name: 'SearchSort' });
registerEnumType(CountRelation, {
  name: 'CountRelation',
  description: 'EQ: the count is exact; GTE: counting stopped at the limit and there are at least that many',
  valuesMap: { EQ: { description: 'Exact' }, GTE: { description: 'A lower bound: at least this many' } },
});
registerEnumType(MatchMode, { name: 'MatchMode', description: 'Whether a document needs any or all of the listed values' });

@InputType({ description: 'Filters are combined with AND; within tags and authors, `tagMode`/`authorMode` chooses ANY or ALL' })
export class DocumentFilter {
  @Field(() => [String], { nullable: true, description: 'Languages of the original or of a translation' })
  @IsOptional()
  @ArrayMaxSize(20, { message: keyed('validation.max') })
  @Matches(/^[a-z]{2}$/, { each: true, message: 'validation.language' })
  languages?: string[];

  @Field(() => [DocumentType], { nullable: true })
  @IsOptional()
  @IsEnum(DocumentType, { each: true, message: 'validation.invalid' })
  types?: DocumentType[];

  @Field(() => [DocumentStatus], { nullable: true, description: 'Only statuses the caller may see count' })
  @IsOptional()
  @IsEnum(DocumentStatus, { each: true, message: 'validation.invalid' })
  statuses?: DocumentStatus[];

  @Field(() => [ID], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(20, { message: keyed('validation.max') })
  @IsUUID('all', { each: true, message: 'validation.isUUID' })
  tagIds?: string[];

  @Field(() => MatchMode, { nullable: true })
  @IsOptional()
  @IsEnum(MatchMode, { message: 'validation.invalid' })
  tagMode?: MatchMode;

  @Field(() => [ID], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(20, { message: keyed('validation.max') })
  @IsUUID('all', { each: true, message: 'validation.isUUID' })
  authorIds?: string[];

  @Field(() => MatchMode, { nullable: true })
  @IsOptional()
  @IsEnum(MatchMode, { message: 'validation.invalid' })
  authorMode?: MatchMode;

  @Field(() => Date, { nullable: true, description: 'Published (or, for drafts, created) at or after' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'validation.invalid' })
  from?: Date;

  @Field(() => Date, { nullable: true, description: 'Published (or, for drafts, created) before' })
  @IsOptional()
  @Type(() => Date)
  @IsDate({ message: 'validation.invalid' })
  to?: Date;
}

/** Facet values a search returns per facet unless asked for more (as Elasticsearch's terms aggregation and Typesense). */
export const DEFAULT_FACET_VALUES = 10;
export const MAX_FACET_VALUES = 1_000;

@InputType()
export class SearchDocumentsInput {
  @Field({ description: 'Words, "quoted phrases", OR, -excluded (web search syntax); matches originals and translations' })
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(200, { message: keyed('validation.maxLength') })
  query: string;

  @Field(() => DocumentFilter, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => DocumentFilter)
  filter?: DocumentFilter;

  @Field(() => SearchSort, { nullable: true, description: 'RELEVANCE when omitted' })
  @IsOptional()
  @IsEnum(SearchSort, { message: 'validation.invalid' })
  sort?: SearchSort;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @IsInt()
  @Min(1, { message: keyed('validation.min') })
  @Max(MAX_PAGE_SIZE, { message: keyed('validation.max') })
  first?: number;

  @Field({ nullable: true })
  @IsOptional()
  @IsString()
  @MaxLength(512, { message: keyed('validation.maxLength') })
  after?: string;

  @Field(() => Int, {
    nullable: true,
    description: `Values returned per facet, the most frequent first (${DEFAULT_FACET_VALUES} when omitted, at most ${MAX_FACET_VALUES}); ask for one more than you show to know whether there are more`,
  })
  @IsOptional()
  @IsInt()
  @Min(1, { message: keyed('validation.min') })
  @Max(MAX_FACET_VALUES, { message: keyed('validation.max') })
  maxValuesPerFacet?: number;
}

@InputType()
export class SuggestDocumentsInput {
  @Field({ description: 'What the user has typed so far; the last word counts as a prefix' })
  @IsString()
  @MinLength(1, { message: keyed('validation.minLength') })
  @MaxLength(100, { message: keyed('validation.maxLength') })
  prefix: string;

  @Field(() => Int, { nullable: true, description: '10 when omitted' })
  @IsOptional()
  @IsInt()
  @Min(1, { message: keyed('validation.min') })
  @Max(20, { message: keyed('validation.max') })
  first?: number;
}

@ObjectType({ description: 'Matching fragments with matches wrapped in <mark>; the text is HTML-escaped' })
export class SearchHighlight {
  @Field()
  title: string;

  @Field()
  body: string;
}

@ObjectType()
export class DocumentSearchHit {
  @Field(() => Document)
  document: Document;

  @Field(() => DocumentTranslation, { nullable: true, description: 'The translation that matched best; null when the original did' })
  translation: DocumentTranslation | null;

  @Field({ description: 'Language of the text that matched best (and that `highlight` shows)' })
  language: string;

  @Field(() => Float, { description: 'Relevance (ts_rank_cd, or trigram similarity for fuzzy hits)' })
  rank: number;

  @Field(() => SearchHighlight)
  highlight: SearchHighlight;
}

@ObjectType()
export class DocumentSearchEdge {
  @Field()
  cursor: string;

  @Field(() => DocumentSearchHit)
  node: DocumentSearchHit;
}

@ObjectType()
export class FacetCount {
  @Field()
  value: string;

  @Field(() => Int)
  count: number;
}

@ObjectType()
export class TagFacetCount {
  @Field(() => Tag)
  tag: Tag;

  @Field(() => Int)
  count: number;
}

@ObjectType()
export class AuthorFacetCount {
  @Field(() => Author)
  author: Author;

  @Field(() => Int)
  count: number;
}

@ObjectType({
  description:
    'Counts per facet value over every match, or over the first 10 000 matches when there are more (see countRelation); the most frequent values of each facet, as many as maxValuesPerFacet',
})
export class DocumentSearchFacets {
  @Field(() => [FacetCount])
  languages: FacetCount[];

  @Field(() => [FacetCount])
  types: FacetCount[];

  @Field(() => [TagFacetCount])
  tags: TagFacetCount[];

  @Field(() => [AuthorFacetCount])
  authors: AuthorFacetCount[];

  @Field(() => CountRelation, { description: 'EQ: counted over every match; GTE: over the first 10 000 matches only, as lower bounds' })
  countRelation: CountRelation;
}

@ObjectType()
export class DocumentSearchResult {
  @Field(() => [DocumentSearchEdge])
  edges: DocumentSearchEdge[];

  @Field(() => PageInfo)
  pageInfo: PageInfo;

  @Field(() => Int, { description: 'Matching documents, counted exactly up to 10 000 (see totalCountRelation)' })
  totalCount: number;

  @Field(() => CountRelation, { description: 'EQ: totalCount is exact; GTE: there are at least totalCount matches (counting stops at 10 000)' })
  totalCountRelation: CountRelation;

  @Field(() => DocumentSearchFacets)
  facets: DocumentSearchFacets;

  @Field({ description: 'True when full-text search found too little and typo-tolerant matching was used' })
  fuzzy: boolean;
}

@ObjectType()
export class DocumentSuggestion {
  @Field(() => ID)
  id: string;

  @Field()
  title: string;
}
