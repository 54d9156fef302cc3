import { Module } from '@nestjs/common';
import { RolesModule } from '../roles/roles.module';
import { InvitationsResolver } from './invitations.resolver';
import { InvitationsService } from './invitations.service';

@Module({ imports: [RolesModule], providers: [InvitationsService, InvitationsResolver] })
export class InvitationsModule {}
