import { Module } from '@nestjs/common';
import { CatalogModule } from '../catalog/catalog.module';
import { EmailModule } from '../email/email.module';
import { NotificationsModule } from '../notifications/notifications.module';
import { AnnouncementsResolver } from './announcements.resolver';
import { AnnouncementsService } from './announcements.service';

@Module({
  imports: [CatalogModule, EmailModule, NotificationsModule],
  providers: [AnnouncementsService, AnnouncementsResolver],
  exports: [AnnouncementsService],
})
export class AnnouncementsModule {}
