import { Directive, Field, ID, ObjectType } from '@nestjs/graphql';

/** The auth service's User, extended here with the user's documents. */
@ObjectType('User')
@Directive('@key(fields: "id")')
export class UserReference {
  @Field(() => ID)
  id: string;
}
