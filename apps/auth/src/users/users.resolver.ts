import { Context, Parent, Query, ResolveField, ResolveReference, Resolver, Root } from '@nestjs/graphql';
import { AuthPrincipal, CurrentUser, OptionalUser } from '@multipult/auth';
import { ERASED_USER_ID } from '@multipult/events';
import { GraphQLContext, requestLoader } from '@multipult/graphql';
import { User } from './user.entity';
import { UsersService } from './users.service';
import { isViewer } from './viewer';

const isUuid = (value: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);

/** What other services' anonymized rows (owner, author) resolve to once their user was erased. */
function erasedUser(): User {
  return Object.assign(new User(), {
    id: ERASED_USER_ID,
    displayName: 'Deleted user',
    username: 'deleted-user',
    email: '',
    emailVerifiedAt: null,
    createdAt: new Date(0),
  });
}

@Resolver(() => User)
export class UsersResolver {
  constructor(private readonly users: UsersService) {}

  @Query(() => User, { description: 'The signed-in user' })
  me(@CurrentUser() principal: AuthPrincipal): Promise<User> {
    return this.users.getById(principal.userId);
  }

  @ResolveField(() => String, { nullable: true, description: "The user's email; only the user themself sees it" })
  email(@Root() user: User, @OptionalUser() principal: AuthPrincipal | null): string | null {
    return isViewer(user, principal?.userId) ? user.email : null;
  }

  @ResolveField(() => Boolean, { nullable: true, description: 'Whether the user confirmed their email; only the user themself sees it' })
  emailVerified(@Root() user: User, @OptionalUser() principal: AuthPrincipal | null): boolean | null {
    return isViewer(user, principal?.userId) ? user.emailVerifiedAt !== null : null;
  }

  /** Batched: all User references of one gateway request are loaded with one query. */
  @ResolveReference()
  resolveReference(@Parent() reference: { id: string }, @Context() context: GraphQLContext): Promise<User | null> {
    if (reference.id === ERASED_USER_ID) return Promise.resolve(erasedUser());
    if (!isUuid(reference.id)) return Promise.resolve(null);
    return requestLoader(context, 'users', (ids: readonly string[]) => this.users.findByIds(ids)).load(reference.id);
  }
}
