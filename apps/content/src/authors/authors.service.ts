import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { ImmutableRowCache } from '../cache/immutable-rows';
import { Connection, ConnectionArgs, KeysetOrder, paginate } from '@multipult/graphql';
import { Author } from './author.entity';
import { CreateAuthorInput } from './dto';

const OLDEST_AUTHORS = new KeysetOrder({
  connection: 'content.authors',
  columns: [
    { expression: 'author.created_at', type: 'timestamp', direction: 'ASC' },
    { expression: 'author.id', type: 'uuid', direction: 'ASC' },
  ],
});

@Injectable()
export class AuthorsService {
  private readonly byId = new ImmutableRowCache<Author>();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  create(tenantId: string, input: CreateAuthorInput): Promise<Author> {
    const authors = this.dataSource.getRepository(Author);
    return authors.save(authors.create({ tenantId, name: input.name.trim(), bio: input.bio?.trim() || null }));
  }

  /** The tenant's authors by id, in the order asked; other tenants' ids come back null. */
  findByIds(tenantId: string, ids: readonly string[]): Promise<(Author | null)[]> {
    return this.byId.findByIds(tenantId, ids, (missing) => this.dataSource.getRepository(Author).findBy({ tenantId, id: In(missing) }));
  }

  async list(tenantId: string, args: ConnectionArgs): Promise<Connection<Author>> {
    const query = this.dataSource.getRepository(Author).createQueryBuilder('author').where('author.tenant_id = :tenantId', { tenantId });
    return paginate(query, OLDEST_AUTHORS, args);
  }
}
