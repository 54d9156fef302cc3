import { CreateNotificationsSchema1733000000001 } from './1733000000001-create-notifications-schema';
import { CreateWebhooks1733000000002 } from './1733000000002-create-webhooks';
import { MillisecondDeliverySortColumn1733000000003 } from './1733000000003-millisecond-delivery-sort-column';
import { AddDeliveryRetentionIndexes1733000000004 } from './1733000000004-add-delivery-retention-indexes';

/** The notifications schema's migrations in the order they run; the kit adds the event tables before them. */
export const notificationsMigrations = [
  CreateNotificationsSchema1733000000001,
  CreateWebhooks1733000000002,
  MillisecondDeliverySortColumn1733000000003,
  AddDeliveryRetentionIndexes1733000000004,
];
