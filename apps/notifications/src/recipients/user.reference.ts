import { Directive, Field, ID, ObjectType } from '@nestjs/graphql';

/** The auth service's User, referenced by id. */
@ObjectType('User')
@Directive('@key(fields: "id", resolvable: false)')
export class UserReference {
  @Field(() => ID)
  id: string;
}
