import { Module } from '@nestjs/common';
import { LiveModule } from '../realtime/live.module';
import { PresenceResolver } from './presence.resolver';
import { PresenceService } from './presence.service';

@Module({ imports: [LiveModule], providers: [PresenceService, PresenceResolver], exports: [PresenceService] })
export class PresenceModule {}
