import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In } from 'typeorm';
import { uniqueViolationColumns } from '@multipult/database';
import { ConflictError, byKeys } from '@multipult/graphql';
import { CreateTagInput } from './dto';
import { Tag } from './tag.entity';

@Injectable()
export class TagsService {
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

  async findByIds(tenantId: string, ids: readonly string[]): Promise<(Tag | null)[]> {
    const rows = await this.dataSource.getRepository(Tag).findBy({ tenantId, id: In([...ids]) });
    return byKeys(ids, rows, (tag) => tag.id);
  }

  list(tenantId: string): Promise<Tag[]> {
    return this.dataSource.getRepository(Tag).find({ where: { tenantId }, order: { name: 'ASC' } });
  }
}
