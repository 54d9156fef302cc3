import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { Connection, ConnectionArgs, byKeys, decodeCursor, pageSizeOf, toConnection } from '@multipult/graphql';
import { Author } from './author.entity';
import { CreateAuthorInput } from './dto';

@Injectable()
export class AuthorsService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  create(tenantId: string, input: CreateAuthorInput): Promise<Author> {
    const authors = this.dataSource.getRepository(Author);
    return authors.save(authors.create({ tenantId, name: input.name.trim(), bio: input.bio?.trim() || null }));
  }

  /** Authors of the tenant by id, in the order asked; other tenants' ids come back null. */
  async findByIds(tenantId: string, ids: readonly string[]): Promise<(Author | null)[]> {
    const rows = await this.dataSource.getRepository(Author).findBy({ tenantId, id: In([...ids]) });
    return byKeys(ids, rows, (author) => author.id);
  }

  async list(tenantId: string, args: ConnectionArgs): Promise<Connection<Author>> {
    const pageSize = pageSizeOf(args);
    const query = this.dataSource
      .getRepository(Author)
      .createQueryBuilder('author')
      .where('author.tenant_id = :tenantId', { tenantId })
      .orderBy('author.created_at', 'ASC')
      .addOrderBy('author.id', 'ASC')
      .take(pageSize + 1);
    if (args.after) {
      query.andWhere('(author.created_at, author.id) > (:sortValue::timestamptz, :id::uuid)', decodeCursor(args.after));
    }
    const [rows, totalCount] = await Promise.all([query.getMany(), this.dataSource.getRepository(Author).countBy({ tenantId })]);
    return toConnection(rows, pageSize, totalCount, (row) => ({ sortValue: row.createdAt.toISOString(), id: row.id }));
  }
}
