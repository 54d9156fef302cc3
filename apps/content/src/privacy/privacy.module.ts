import { Module } from '@nestjs/common';
import { ContentUserDataService } from './content-user-data.service';

@Module({ providers: [ContentUserDataService] })
export class PrivacyModule {}
