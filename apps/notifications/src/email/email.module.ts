import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module';
import { EmailJobs } from './email-jobs';
import { EmailQueue } from './email.service';

@Module({ imports: [CatalogModule], providers: [EmailQueue, EmailJobs], exports: [EmailQueue, EmailJobs] })
export class EmailModule {}
