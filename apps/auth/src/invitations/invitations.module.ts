import { Module } from '@nestjs/common';
import { InvitationsResolver } from './invitations.resolver';
import { InvitationsService } from './invitations.service';

@Module({ providers: [InvitationsService, InvitationsResolver] })
export class InvitationsModule {}
