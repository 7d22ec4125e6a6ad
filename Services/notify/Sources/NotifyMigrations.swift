import PinganOutbox
import PinganPostgres

/// Schema `notify`, owned by notify-service alone. Append; never edit a shipped migration.
enum NotifyMigrations {
    static let schema = "notify"

    static let all: [Migration] = [
        Migration(version: 1, name: "subscriptions and deliveries", sql: """
            CREATE TABLE notify.subscriptions (
                id          uuid PRIMARY KEY,
                centre_code text COLLATE "C" NOT NULL,
                url         text NOT NULL,
                secret      text NOT NULL,
                created_at  timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX subscriptions_centre ON notify.subscriptions (centre_code);
            CREATE TABLE notify.deliveries (
                id              uuid PRIMARY KEY,
                warning_id      uuid NOT NULL,
                subscription_id uuid NOT NULL REFERENCES notify.subscriptions (id),
                centre_code     text COLLATE "C" NOT NULL,
                -- The exact bytes every attempt sends, so signatures and receivers agree.
                payload         text NOT NULL,
                attempts        integer NOT NULL DEFAULT 0,
                next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                delivered_at    timestamptz,
                last_error      text,
                created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
                UNIQUE (warning_id, subscription_id)
            );
            CREATE INDEX deliveries_due ON notify.deliveries (next_attempt_at) WHERE delivered_at IS NULL;
            CREATE TABLE notify.attempts (
                id          bigserial PRIMARY KEY,
                delivery_id uuid NOT NULL REFERENCES notify.deliveries (id),
                at          timestamptz NOT NULL DEFAULT clock_timestamp(),
                status      integer,
                error       text,
                duration_ms double precision NOT NULL
            );
            CREATE INDEX attempts_delivery ON notify.attempts (delivery_id, id);
            """),
        Outbox.migration(version: 2, schema: schema),
        Migration(version: 3, name: "case notices beside warnings", sql: """
            -- What a delivery announces (X-Pingan-Event); warning_id holds the warning's id or,
            -- for a case notice, the id of the event that carried it.
            ALTER TABLE notify.deliveries ADD COLUMN event text NOT NULL DEFAULT 'warning.raised';
            """),
        Migration(version: 4, name: "a circuit breaker per subscription", sql: """
            -- Consecutive rounds in which every delivery to the subscription failed, and until
            -- when its queue is paused.
            ALTER TABLE notify.subscriptions
                ADD COLUMN failures integer NOT NULL DEFAULT 0,
                ADD COLUMN paused_until timestamptz;
            """),
        Migration(version: 5, name: "channels, filters and managed subscriptions", sql: """
            ALTER TABLE notify.subscriptions
                ADD COLUMN channel text NOT NULL DEFAULT 'webhook' CHECK (channel IN ('webhook', 'wecom', 'sms')),
                ADD COLUMN event_types text[] NOT NULL DEFAULT '{}',
                ADD COLUMN min_score integer NOT NULL DEFAULT 0,
                ADD COLUMN categories integer[] NOT NULL DEFAULT '{}',
                ADD COLUMN phone text NOT NULL DEFAULT '',
                ADD COLUMN deleted_at timestamptz;
            -- One live subscription per endpoint of a centre: subscribing again updates it.
            CREATE UNIQUE INDEX subscriptions_endpoint ON notify.subscriptions (centre_code, channel, url, phone)
                WHERE deleted_at IS NULL;
            """),
        Migration(version: 6, name: "e-mail subscriptions", sql: """
            ALTER TABLE notify.subscriptions DROP CONSTRAINT subscriptions_channel_check;
            ALTER TABLE notify.subscriptions ADD CONSTRAINT subscriptions_channel_check
                CHECK (channel IN ('webhook', 'wecom', 'sms', 'email'));
            ALTER TABLE notify.subscriptions ADD COLUMN email text NOT NULL DEFAULT '';
            DROP INDEX notify.subscriptions_endpoint;
            CREATE UNIQUE INDEX subscriptions_endpoint ON notify.subscriptions (centre_code, channel, url, phone, email)
                WHERE deleted_at IS NULL;
            """),
        Migration(version: 7, name: "undelivered deliveries by subscription", sql: """
            -- A claim visits each subscription with undelivered deliveries and takes its
            -- earliest due ones, instead of ranking every due delivery: a backlog no longer
            -- makes each claim slower.
            CREATE INDEX deliveries_undelivered ON notify.deliveries (subscription_id, next_attempt_at) WHERE delivered_at IS NULL;
            """),
        Migration.vacuumOften(version: 8, "notify.outbox", "notify.deliveries"),
        Migration(version: 9, name: "a delivery's subject", sql: """
            -- warning_id held a warning's id or, for a notice, the id of the event that carried
            -- it: the column and its unique constraint are named for what they hold. The wire
            -- (ListDeliveries, the webhook body) still calls a warning's id warning_id.
            ALTER TABLE notify.deliveries RENAME COLUMN warning_id TO subject_id;
            ALTER TABLE notify.deliveries RENAME CONSTRAINT deliveries_warning_id_subscription_id_key
                TO deliveries_subject_id_subscription_id_key;
            """),
        Migration(version: 10, name: "deliveries by case and by subscription", sql: """
            -- The case a push is about (a warning's or a case notice's), so a case's
            -- deliveries are listed by case; NULL for the index's notices, which concern a
            -- division.
            ALTER TABLE notify.deliveries ADD COLUMN case_id uuid;
            -- Deliveries from before it take the case their stored payload names: a webhook
            -- body starts with "case_id" (its keys are in alphabetical order), a WeCom message
            -- ends with its 案件 line.
            UPDATE notify.deliveries SET case_id = coalesce(
                    substring(payload from '^[{]"case_id":"([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"'),
                    substring(payload from '> 案件：([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"[}],"msgtype":"markdown"[}]$')
                )::uuid
            WHERE payload LIKE '{"case_id":"%' OR payload LIKE '%"msgtype":"markdown"}';
            -- An SMS text never names the case (it carries nothing personal) and an e-mail's
            -- body is base64: those take the case of another delivery of the same push (the
            -- same subject_id). What cannot be backfilled: a push that reached only SMS and
            -- e-mail subscriptions keeps no case_id, and is found by warning_id or
            -- centre_code but not by case_id.
            UPDATE notify.deliveries d SET case_id = known.case_id
            FROM (
                SELECT DISTINCT ON (subject_id) subject_id, case_id FROM notify.deliveries
                WHERE case_id IS NOT NULL ORDER BY subject_id
            ) known
            WHERE d.case_id IS NULL AND d.subject_id = known.subject_id;
            -- ListDeliveries in queue order: by case, and by subscription and type (a
            -- centre's listing walks each of its subscriptions' types in order and merges
            -- them). By warning, the (subject_id, subscription_id) key serves.
            CREATE INDEX deliveries_case ON notify.deliveries (case_id, created_at, id) WHERE case_id IS NOT NULL;
            CREATE INDEX deliveries_subscription ON notify.deliveries (subscription_id, event, created_at, id);
            """),
        Migration(version: 11, name: "secret rotation, robot pacing and digests", sql: """
            -- The secret a rotation replaced (RotateSecret), which signs beside the new one
            -- until previous_secret_until, so a receiver switches keys without refusing any.
            ALTER TABLE notify.subscriptions
                ADD COLUMN previous_secret text,
                ADD COLUMN previous_secret_until timestamptz;
            -- Messages sent to each WeCom robot in the last minute (it takes 20 a minute);
            -- older rows are deleted as new ones are written.
            CREATE TABLE notify.robot_sends (
                subscription_id uuid NOT NULL,
                sent_at         timestamptz NOT NULL
            );
            CREATE INDEX robot_sends_subscription ON notify.robot_sends (subscription_id, sent_at);
            -- One line naming the push, for a robot message that groups several; empty for
            -- deliveries queued before it, which are then named by their id.
            ALTER TABLE notify.deliveries ADD COLUMN digest text NOT NULL DEFAULT '';
            """),
        Migration(version: 12, name: "texts to residents", sql: """
            -- A text to a resident: what it was for, to whom (masked) and what the SMS gateway
            -- answered; a one-time code itself is never stored.
            CREATE TABLE notify.resident_texts (
                event_id     uuid PRIMARY KEY,
                kind         text NOT NULL CHECK (kind IN ('one_time_code', 'rating_link')),
                phone_masked text NOT NULL,
                status       integer NOT NULL,
                sent_at      timestamptz NOT NULL DEFAULT clock_timestamp()
            );
            """),
        Migration(version: 13, name: "finished pushes and texts by age", sql: """
            -- DeliveryRetention deletes the oldest finished deliveries (delivered, or dropped
            -- with their subscription) and texts first, once they are DELIVERY_RETENTION_DAYS old.
            CREATE INDEX deliveries_finished ON notify.deliveries (created_at)
                WHERE delivered_at IS NOT NULL OR next_attempt_at = 'infinity';
            CREATE INDEX resident_texts_sent ON notify.resident_texts (sent_at);
            """),
        Migration(version: 14, name: "subscriptions paused by their administrators", sql: """
            -- When an administrator paused the subscription (PauseSubscription), until it is
            -- resumed: its deliveries are queued and wait. paused_until is the breaker's.
            ALTER TABLE notify.subscriptions ADD COLUMN paused_at timestamptz;
            """),
        Migration(version: 15, name: "the warning a notice is about", sql: """
            -- The warning a warning.escalated or warning.grew notice is about (its subject_id
            -- is the event that carried it), so ListDeliveries by warning lists them with the
            -- warning's own push. NULL for every other push, and for notices from before. Not
            -- named warning_id, which migration 9 renamed to subject_id: a query written
            -- before it would find only notices.
            -- On a large table build the index by hand first (docs/operating.md, "Big
            -- tables"); here it then finds it.
            SET LOCAL lock_timeout = '5s';
            ALTER TABLE notify.deliveries ADD COLUMN about_warning uuid;
            CREATE INDEX IF NOT EXISTS deliveries_about_warning ON notify.deliveries (about_warning) WHERE about_warning IS NOT NULL;
            """),
    ]

    static var migrator: Migrator { Migrator(schema: schema, migrations: all) }
}
