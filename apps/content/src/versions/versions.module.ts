import { Module } from '@nestjs/common';
import { DocumentsModule } from '../documents/documents.module';
import { VersionsResolver } from './versions.resolver';
import { VersionsService } from './versions.service';

@Module({ imports: [DocumentsModule], providers: [VersionsService, VersionsResolver] })
export class VersionsModule {}
