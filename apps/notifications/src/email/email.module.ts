import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module';
import { EmailQueue } from './email.service';
import { EmailWorker } from './email-worker';

@Module({ imports: [CatalogModule], providers: [EmailQueue, EmailWorker], exports: [EmailQueue, EmailWorker] })
export class EmailModule {}
