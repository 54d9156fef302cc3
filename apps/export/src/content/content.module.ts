import { Module } from '@nestjs/common';
import { ContentReader } from './content-reader';

/** Documents from the content subgraph, read as the exporting user. */
@Module({ providers: [ContentReader], exports: [ContentReader] })
export class ContentModule {}
