import { Module } from '@nestjs/common';
import { UserDirectoryService } from './user-directory.service';

@Module({ providers: [UserDirectoryService], exports: [UserDirectoryService] })
export class UsersModule {}
