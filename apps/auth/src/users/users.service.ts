import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { NotFoundError, byKeys } from '@multipult/graphql';
import { User } from './user.entity';

@Injectable()
export class UsersService {
  constructor(@InjectRepository(User) private readonly users: Repository<User>) {}

  async getById(id: string): Promise<User> {
    const user = await this.users.findOneBy({ id });
    if (!user) throw new NotFoundError('User');
    return user;
  }

  /** One query for many ids, in the order asked (null where none exists): the reference resolver's batch. */
  async findByIds(ids: readonly string[]): Promise<(User | null)[]> {
    return byKeys(ids, await this.users.findBy({ id: In([...ids]) }), (user) => user.id);
  }
}
