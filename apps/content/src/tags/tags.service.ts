import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { ImmutableRowCache } from '../cache/immutable-rows';
import { uniqueViolationColumns } from '@multipult/database';
import { ConflictError } from '@multipult/graphql';
import { CreateTagInput } from './dto';
import { Tag } from './tag.entity';

@Injectable()
export class TagsService {
  private readonly byId = new ImmutableRowCache<Tag>();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async create(tenantId: string, input: CreateTagInput): Promise<Tag> {
    const tags = this.dataSource.getRepository(Tag);
    try {
      return await tags.save(tags.create({ tenantId, name: input.name.trim(), color: input.color.toLowerCase() }));
    } catch (error) {
      if (uniqueViolationColumns(error) !== undefined) throw new ConflictError('errors.tag_exists');
      throw error;
    }
  }

  /** The tenant's tags by id, in the order asked; other tenants' ids come back null. */
  findByIds(tenantId: string, ids: readonly string[]): Promise<(Tag | null)[]> {
    return this.byId.findByIds(tenantId, ids, (missing) => this.dataSource.getRepository(Tag).findBy({ tenantId, id: In(missing) }));
  }

  list(tenantId: string): Promise<Tag[]> {
    return this.dataSource.getRepository(Tag).find({ where: { tenantId }, order: { name: 'ASC' } });
  }
}
