import { Module } from '@nestjs/common';
import { SigningKeysModule } from '../signing-keys/signing-keys.module';
import { DelegationController } from './delegation.controller';
import { DelegationService } from './delegation.service';

/** Delegated tokens for services acting on a user's behalf. */
@Module({ imports: [SigningKeysModule], controllers: [DelegationController], providers: [DelegationService] })
export class DelegationModule {}
