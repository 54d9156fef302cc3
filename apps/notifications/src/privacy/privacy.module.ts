import { Module } from '@nestjs/common';
import { NotificationsUserDataService } from './notifications-user-data.service';

@Module({ providers: [NotificationsUserDataService] })
export class PrivacyModule {}
