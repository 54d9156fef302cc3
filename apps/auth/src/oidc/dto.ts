import { Field, InputType, ObjectType } from '@nestjs/graphql';
import { IsString, IsUrl, Matches, MaxLength } from 'class-validator';
import { keyed } from '@multipult/graphql';

@ObjectType({ description: 'An OpenID provider users may sign in with' })
export class OidcProvider {
  @Field()
  id: string;

  @Field()
  name: string;
}

@InputType()
export class StartOidcLoginInput {
  @Field({ description: 'The id of one of oidcProviders' })
  @Matches(/^[a-z0-9-]{1,40}$/, { message: 'validation.invalid' })
  provider: string;

  @Field({ description: "Where the provider sends the user back: one of the provider's configured redirect URIs" })
  @IsUrl({ require_tld: false, require_protocol: true }, { message: 'validation.invalid' })
  @MaxLength(2048, { message: keyed('validation.maxLength') })
  redirectUri: string;
}

@ObjectType()
export class StartOidcLoginPayload {
  @Field({ description: 'Send the user here; the provider returns them to redirectUri with code and state' })
  authorizationUrl: string;

  @Field()
  expiresAt: Date;
}

@InputType()
export class CompleteOidcLoginInput {
  @Field({ description: 'The full URL the provider sent the user back to (redirectUri with code and state)' })
  @IsString()
  @IsUrl({ require_tld: false, require_protocol: true }, { message: 'validation.invalid' })
  @MaxLength(4096, { message: keyed('validation.maxLength') })
  callbackUrl: string;
}
