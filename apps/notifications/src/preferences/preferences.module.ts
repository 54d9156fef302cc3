import { Module } from '@nestjs/common';
import { PreferencesResolver } from './preferences.resolver';
import { PreferencesService } from './preferences.service';

@Module({ providers: [PreferencesService, PreferencesResolver], exports: [PreferencesService] })
export class PreferencesModule {}
