import { Args, ArgsType, Context, Field, Mutation, Parent, ResolveField, Resolver } from '@nestjs/graphql';
import { Matches } from 'class-validator';
import { AuthPrincipal, CurrentUser, RequirePermissions } from '@multipult/auth';
import { GraphQLContext, requestLoader } from '@multipult/graphql';
import { Author } from '../authors/author.entity';
import { AuthorsService } from '../authors/authors.service';
import { Document } from '../documents/document.entity';
import { LANGUAGE_CODE } from '../documents/dto';
import { DeleteTranslationInput, DeleteTranslationPayload, SaveTranslationInput, TranslationPayload } from './dto';
import { DocumentTranslation } from './translation.entity';
import { TranslationsService } from './translations.service';

@ArgsType()
class TranslationLanguageArgs {
  @Field()
  @Matches(LANGUAGE_CODE, { message: 'validation.language' })
  language: string;
}

@Resolver(() => Document)
export class DocumentTranslationsResolver {
  constructor(private readonly translationsService: TranslationsService) {}

  @RequirePermissions('content:write')
  @Mutation(() => TranslationPayload, { description: 'Adds or replaces the translation of a document into a language' })
  async saveTranslation(@CurrentUser() principal: AuthPrincipal, @Args('input') input: SaveTranslationInput): Promise<TranslationPayload> {
    return { translation: await this.translationsService.save(principal, input) };
  }

  @RequirePermissions('content:write')
  @Mutation(() => DeleteTranslationPayload)
  async deleteTranslation(
    @CurrentUser() principal: AuthPrincipal,
    @Args('input') input: DeleteTranslationInput,
  ): Promise<DeleteTranslationPayload> {
    return { deletedTranslationId: await this.translationsService.delete(principal, input) };
  }

  @ResolveField(() => [DocumentTranslation], { description: 'Translations into other languages, by language code' })
  translations(@Parent() document: Document, @Context() context: GraphQLContext): Promise<DocumentTranslation[]> {
    return this.loader(context)
      .load(document.id)
      .then((translations) => translations ?? []);
  }

  @ResolveField(() => DocumentTranslation, { nullable: true, description: 'The translation into one language, if there is one' })
  async translation(
    @Parent() document: Document,
    @Context() context: GraphQLContext,
    @Args() args: TranslationLanguageArgs,
  ): Promise<DocumentTranslation | null> {
    const translations = (await this.loader(context).load(document.id)) ?? [];
    return translations.find((translation) => translation.language === args.language) ?? null;
  }

  private loader(context: GraphQLContext) {
    return requestLoader(context, 'documentTranslations', (ids: readonly string[]) => this.translationsService.ofDocuments(ids));
  }
}

@Resolver(() => DocumentTranslation)
export class TranslationFieldsResolver {
  constructor(private readonly authorsService: AuthorsService) {}

  @ResolveField(() => Author, { nullable: true })
  translator(@Parent() translation: DocumentTranslation, @Context() context: GraphQLContext): Promise<Author | null> {
    if (!translation.translatorId) return Promise.resolve(null);
    return requestLoader(context, `translators:${translation.tenantId}`, (ids: readonly string[]) =>
      this.authorsService.findByIds(translation.tenantId, ids),
    ).load(translation.translatorId);
  }
}
