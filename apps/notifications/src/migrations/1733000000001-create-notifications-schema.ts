import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Recipients (this service's copy of who is who, from auth's events), each user's notification
 * stream with a dense per-user sequence (a row lock on `streams` orders a user's notifications by
 * commit, so a client that acked N has seen exactly 1..N), preferences, the email queue and the
 * clients' acknowledged positions.
 */
export class CreateNotificationsSchema1733000000001 implements MigrationInterface {
  name = 'CreateNotificationsSchema1733000000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE recipients (
        user_id uuid PRIMARY KEY,
        email text NOT NULL,
        display_name text NOT NULL,
        username text,
        locale text NOT NULL DEFAULT 'en',
        email_digest boolean NOT NULL DEFAULT false,
        digest_hour smallint NOT NULL DEFAULT 8 CHECK (digest_hour BETWEEN 0 AND 23),
        time_zone text NOT NULL DEFAULT 'UTC',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      );

      -- Who belongs to which tenant (tenant announcements, presence), from auth's tenant events.
      CREATE TABLE tenant_members (
        tenant_id uuid NOT NULL,
        user_id uuid NOT NULL,
        PRIMARY KEY (tenant_id, user_id)
      );
      CREATE INDEX tenant_members_user_idx ON tenant_members (user_id);

      CREATE TABLE streams (
        user_id uuid PRIMARY KEY,
        last_sequence bigint NOT NULL
      );

      CREATE TABLE notifications (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        recipient_id uuid NOT NULL,
        sequence bigint NOT NULL,
        tenant_id uuid,
        type text NOT NULL,
        data jsonb NOT NULL DEFAULT '{}',
        actor_id uuid,
        source_event_id uuid,
        read_at timestamptz,
        archived_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT notifications_stream_key UNIQUE (recipient_id, sequence)
      );
      CREATE INDEX notifications_unread_idx ON notifications (recipient_id) WHERE read_at IS NULL AND archived_at IS NULL;

      CREATE TABLE preferences (
        user_id uuid NOT NULL,
        type text NOT NULL,
        channel text NOT NULL,
        enabled boolean NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, type, channel)
      );

      CREATE TABLE email_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid,
        to_address text NOT NULL,
        type text NOT NULL,
        locale text NOT NULL,
        subject text NOT NULL,
        text_body text NOT NULL,
        html_body text NOT NULL,
        link text,
        status text NOT NULL CHECK (status IN ('pending', 'digest', 'sending', 'sent', 'failed', 'digested')),
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error text,
        message_id text,
        digest_id uuid,
        source_event_id uuid,
        created_at timestamptz NOT NULL DEFAULT now(),
        sent_at timestamptz
      );
      CREATE INDEX email_deliveries_due_idx ON email_deliveries (next_attempt_at) WHERE status IN ('pending', 'sending');
      CREATE INDEX email_deliveries_digest_idx ON email_deliveries (user_id, created_at) WHERE status = 'digest';
      CREATE INDEX email_deliveries_user_idx ON email_deliveries (user_id, created_at DESC);

      CREATE TABLE digest_schedule (
        user_id uuid PRIMARY KEY,
        due_at timestamptz NOT NULL
      );
      CREATE INDEX digest_schedule_due_idx ON digest_schedule (due_at);

      CREATE TABLE delivery_cursors (
        user_id uuid NOT NULL,
        client_id text NOT NULL,
        acknowledged_sequence bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (user_id, client_id)
      );

      -- The next time the local clock in time zone tz shows hour:00.
      CREATE FUNCTION next_digest_at(hour integer, tz text) RETURNS timestamptz LANGUAGE sql STABLE AS $$
        SELECT (CASE WHEN local_at > (now() AT TIME ZONE tz) THEN local_at ELSE local_at + interval '1 day' END) AT TIME ZONE tz
        FROM (SELECT date_trunc('day', now() AT TIME ZONE tz) + make_interval(hours => hour) AS local_at) AS today
      $$;

      CREATE TABLE announcements (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        tenant_id uuid,
        title text NOT NULL,
        body text NOT NULL,
        created_by uuid,
        recipient_count integer NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
    `);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      DROP TABLE announcements;
      DROP TABLE delivery_cursors;
      DROP FUNCTION next_digest_at(integer, text);
      DROP TABLE digest_schedule;
      DROP TABLE email_deliveries;
      DROP TABLE preferences;
      DROP TABLE notifications;
      DROP TABLE streams;
      DROP TABLE tenant_members;
      DROP TABLE recipients;
    `);
  }
}
