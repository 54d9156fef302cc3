import { Module } from '@nestjs/common';
import { TemplateRenderer } from './template-renderer';

@Module({ providers: [TemplateRenderer], exports: [TemplateRenderer] })
export class CatalogModule {}
