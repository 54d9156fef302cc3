import { Module } from '@nestjs/common';
import { ExportsResolver } from './exports.resolver';
import { ExportsService } from './exports.service';

@Module({ providers: [ExportsService, ExportsResolver] })
export class ExportsModule {}
