import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { BadUserInputError, pickLocale } from '@multipult/graphql';
import { NOTIFICATION_KINDS, kindOf } from '../catalog/kinds';
import { NotificationChannel, NotificationKind } from '../catalog/notification-kind';
import { NotificationPreference, NotificationSettings, SetNotificationPreferenceInput, UpdateNotificationSettingsInput } from './dto';

interface SettingsRow {
  locale: string;
  email_digest: boolean;
  digest_hour: number;
  time_zone: string;
}

const DEFAULT_SETTINGS: SettingsRow = { locale: 'en', email_digest: false, digest_hour: 8, time_zone: 'UTC' };

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** The key of a user's channels for a kind in what channelsFor answers. */
export function channelKey(type: string, userId: string): string {
  return `${type}:${userId}`;
}

function channelOn(kind: NotificationKind, channel: NotificationChannel, chosen: boolean | undefined): boolean {
  if (!kind.channels.includes(channel)) return false;
  if (kind.critical) return true;
  return chosen ?? !kind.defaultOff?.includes(channel);
}

/**
 * Per user, type and channel: on or off. Only choices are stored; a type's default applies
 * otherwise, and critical types ignore choices altogether.
 */
@Injectable()
export class PreferencesService {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * The channels each user gets each kind on, for several kinds in one read (a consumer batch's):
   * keyed by `channelKey(kind.type, userId)`.
   */
  async channelsFor(manager: EntityManager, wanted: { kind: NotificationKind; userIds: string[] }[]): Promise<Map<string, Set<NotificationChannel>>> {
    const asked = wanted.filter(({ kind, userIds }) => userIds.length && !kind.critical);
    const rows: { user_id: string; type: string; channel: NotificationChannel; enabled: boolean }[] = asked.length
      ? await manager.query('SELECT user_id, type, channel, enabled FROM preferences WHERE user_id = ANY($1::uuid[]) AND type = ANY($2::text[])', [
          [...new Set(asked.flatMap(({ userIds }) => userIds))],
          [...new Set(asked.map(({ kind }) => kind.type))],
        ])
      : [];
    const chosen = new Map(rows.map((row) => [`${channelKey(row.type, row.user_id)}:${row.channel}`, row.enabled]));
    const channels = new Map<string, Set<NotificationChannel>>();
    for (const { kind, userIds } of wanted) {
      for (const userId of userIds) {
        const key = channelKey(kind.type, userId);
        channels.set(key, new Set(kind.channels.filter((channel) => channelOn(kind, channel, chosen.get(`${key}:${channel}`)))));
      }
    }
    return channels;
  }

  async settings(userId: string, manager: EntityManager = this.dataSource.manager): Promise<NotificationSettings> {
    const [row]: SettingsRow[] = await manager.query(
      'SELECT locale, email_digest, digest_hour, time_zone FROM recipients WHERE user_id = $1',
      [userId],
    );
    const settings = row ?? DEFAULT_SETTINGS;
    const rows: { type: string; channel: NotificationChannel; enabled: boolean }[] = await manager.query(
      'SELECT type, channel, enabled FROM preferences WHERE user_id = $1',
      [userId],
    );
    const chosen = new Map(rows.map((choice) => [`${choice.type}:${choice.channel}`, choice.enabled]));
    const preferences: NotificationPreference[] = NOTIFICATION_KINDS.flatMap((kind) =>
      kind.channels.map((channel) => ({
        type: kind.type,
        channel,
        critical: kind.critical,
        enabled: channelOn(kind, channel, chosen.get(`${kind.type}:${channel}`)),
      })),
    );
    return {
      locale: settings.locale,
      emailDigest: settings.email_digest,
      digestHour: settings.digest_hour,
      timeZone: settings.time_zone,
      preferences,
    };
  }

  async setPreference(userId: string, input: SetNotificationPreferenceInput): Promise<NotificationSettings> {
    const kind = kindOf(input.type);
    if (!kind) throw BadUserInputError.field('type', 'errors.unknown_notification_type', { type: input.type });
    if (!kind.channels.includes(input.channel)) {
      throw BadUserInputError.field('channel', 'errors.channel_not_offered', { type: kind.type, channel: input.channel });
    }
    if (kind.critical && !input.enabled) throw BadUserInputError.field('enabled', 'errors.preference_critical', { type: kind.type });
    await this.dataSource.query(
      `INSERT INTO preferences (user_id, type, channel, enabled) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id, type, channel) DO UPDATE SET enabled = excluded.enabled, updated_at = now()`,
      [userId, kind.type, input.channel, input.enabled],
    );
    return this.settings(userId);
  }

  async updateSettings(userId: string, input: UpdateNotificationSettingsInput): Promise<NotificationSettings> {
    if (input.timeZone !== undefined && !isTimeZone(input.timeZone)) {
      throw BadUserInputError.field('timeZone', 'validation.timeZone');
    }
    return this.dataSource.transaction(async (manager) => {
      const [updated]: [unknown[], number] = await manager.query(
        `UPDATE recipients SET
           locale = coalesce($2, locale), email_digest = coalesce($3, email_digest),
           digest_hour = coalesce($4, digest_hour), time_zone = coalesce($5, time_zone), updated_at = now()
         WHERE user_id = $1 RETURNING user_id`,
        [userId, input.locale ? pickLocale([input.locale]) : null, input.emailDigest ?? null, input.digestHour ?? null, input.timeZone ?? null],
      );
      if (!updated.length) throw BadUserInputError.field('userId', 'errors.recipient_unknown');
      // A new time, or the end of digests, reschedules what is waiting (ending them sends it now).
      await manager.query(
        `UPDATE digest_schedule s SET due_at = CASE WHEN r.email_digest THEN next_digest_at(r.digest_hour, r.time_zone) ELSE now() END
         FROM recipients r WHERE s.user_id = r.user_id AND r.user_id = $1`,
        [userId],
      );
      return this.settings(userId, manager);
    });
  }
}
