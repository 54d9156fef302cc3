import { Module } from '@nestjs/common';
import { AgentsUserDataService } from './agents-user-data.service';

@Module({ providers: [AgentsUserDataService] })
export class PrivacyModule {}
