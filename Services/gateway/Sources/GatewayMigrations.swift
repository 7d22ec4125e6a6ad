import PinganPostgres

/// Schema `gateway`, owned by the gateway alone. Append; never edit a shipped migration.
enum GatewayMigrations {
    static let schema = "gateway"

    static let all: [Migration] = [
        Migration(version: 1, name: "users and api keys", sql: """
            CREATE TABLE gateway.users (
                username      text PRIMARY KEY CHECK (username ~ '^[a-z0-9_.-]{3,64}$'),
                -- bcrypt, never the password itself.
                password_hash text NOT NULL,
                centre_code   text COLLATE "C" NOT NULL CHECK (centre_code ~ '^[0-9]{12}$'),
                roles         text[] NOT NULL,
                created_at    timestamptz NOT NULL DEFAULT now()
            );
            CREATE TABLE gateway.api_keys (
                name        text PRIMARY KEY,
                -- SHA-256 of the key; the key is shown once, when it is created.
                key_hash    text NOT NULL UNIQUE,
                centre_code text COLLATE "C" NOT NULL CHECK (centre_code ~ '^[0-9]{12}$'),
                roles       text[] NOT NULL,
                created_at  timestamptz NOT NULL DEFAULT now()
            );
            """),
        Migration(version: 2, name: "access log", sql: """
            -- Every call through the gateway: who, for which centre, which method and records,
            -- the outcome and the rule that let it through. Kept 180 days.
            CREATE TABLE gateway.access_log (
                id          bigserial PRIMARY KEY,
                at          timestamptz NOT NULL,
                subject     text NOT NULL,
                centre_code text NOT NULL,
                method      text NOT NULL,
                record_ids  text NOT NULL,
                outcome     text NOT NULL,
                rule        text NOT NULL,
                peer        text NOT NULL,
                duration_ms double precision NOT NULL
            );
            CREATE INDEX access_log_at ON gateway.access_log (at);
            CREATE INDEX access_log_subject ON gateway.access_log (subject, at);
            """),
        Migration(version: 3, name: "account administration", sql: """
            -- A disabled user cannot sign in. Tokens are not stored, so a token issued before
            -- sessions_valid_after (a disable, a password reset, a change of roles) is refused
            -- by the gateways, which keep the recent values in memory (SessionRevocations).
            ALTER TABLE gateway.users
                ADD COLUMN disabled_at          timestamptz,
                ADD COLUMN sessions_valid_after timestamptz;
            CREATE INDEX users_sessions_valid_after ON gateway.users (sessions_valid_after) WHERE sessions_valid_after IS NOT NULL;
            CREATE INDEX users_centre ON gateway.users (centre_code, username);
            -- A revoked key is refused at once; its row stays, for the record and the audit.
            ALTER TABLE gateway.api_keys ADD COLUMN revoked_at timestamptz;
            CREATE INDEX api_keys_centre ON gateway.api_keys (centre_code, name);
            -- Every change made through AdminService, written in the change's own transaction.
            -- Never a password or a key.
            CREATE TABLE gateway.admin_audit (
                id                 bigserial PRIMARY KEY,
                at                 timestamptz NOT NULL DEFAULT now(),
                principal          text NOT NULL,
                centre_code        text COLLATE "C" NOT NULL,
                method             text NOT NULL,
                target             text NOT NULL,
                target_centre_code text COLLATE "C" NOT NULL,
                detail             text NOT NULL
            );
            CREATE INDEX admin_audit_target_centre ON gateway.admin_audit (target_centre_code, id);
            """),
        Migration(version: 4, name: "people of a department", sql: """
            -- A person who signs in for a department (issue 25): the name of the department's
            -- API key, whose identity the gateway gives the person's calls (apikey:<name>), so
            -- dispute-service matches their summons as it does the department system's.
            -- NULL for everyone else. A key keeps its row when revoked or reissued, so the
            -- reference stays good.
            ALTER TABLE gateway.users ADD COLUMN department_key text REFERENCES gateway.api_keys (name);
            """),
        Migration(version: 5, name: "residents' one-time codes", sql: """
            -- A code texted to a resident who signs in by phone: only its digest is kept, it
            -- serves once, expires, and burns after five wrong tries. Rows older than a day
            -- are deleted (ResidentCodes), so the table holds about a day of sign-ins.
            CREATE TABLE gateway.resident_codes (
                id          uuid PRIMARY KEY,
                phone       text NOT NULL,
                digest      text NOT NULL,
                created_at  timestamptz NOT NULL,
                expires_at  timestamptz NOT NULL,
                attempts    integer NOT NULL DEFAULT 0,
                used_at     timestamptz
            );
            CREATE INDEX resident_codes_phone ON gateway.resident_codes (phone, created_at DESC);
            """),
        Migration(version: 6, name: "access log partitioned by month", sql: """
            -- The access log grows by a row per call through the gateway. Partitioned by month
            -- of China time (PARTITION BY RANGE (at), partitions access_log_YYYY_MM):
            -- retention detaches and drops a month (AccessLogPartitions) instead of deleting
            -- rows one by one. Same columns and indexes; the key is (id, at) because a
            -- partitioned table's key must hold the partition column. The rows move once,
            -- here, under this migration's lock: calls go on meanwhile, since AccessLog
            -- buffers its entries in memory and writes them once the lock is gone. Later
            -- months are made ahead of time by AccessLogPartitions without blocking writes.
            SET LOCAL lock_timeout = '5s';
            ALTER TABLE gateway.access_log RENAME TO access_log_unpartitioned;
            ALTER TABLE gateway.access_log_unpartitioned RENAME CONSTRAINT access_log_pkey TO access_log_unpartitioned_pkey;
            ALTER INDEX gateway.access_log_at RENAME TO access_log_unpartitioned_at;
            ALTER INDEX gateway.access_log_subject RENAME TO access_log_unpartitioned_subject;
            -- Ids go on from the same sequence, so ORDER BY id is still the order of writing.
            ALTER SEQUENCE gateway.access_log_id_seq OWNED BY NONE;
            CREATE TABLE gateway.access_log (
                id          bigint NOT NULL DEFAULT nextval('gateway.access_log_id_seq'),
                at          timestamptz NOT NULL,
                subject     text NOT NULL,
                centre_code text NOT NULL,
                method      text NOT NULL,
                record_ids  text NOT NULL,
                outcome     text NOT NULL,
                rule        text NOT NULL,
                peer        text NOT NULL,
                duration_ms double precision NOT NULL,
                PRIMARY KEY (id, at)
            ) PARTITION BY RANGE (at);
            ALTER SEQUENCE gateway.access_log_id_seq OWNED BY gateway.access_log.id;
            CREATE INDEX access_log_at ON gateway.access_log (at);
            CREATE INDEX access_log_subject ON gateway.access_log (subject, at);
            -- One partition per month from the first stored row's to two months after this
            -- one, each from midnight China time on its 1st.
            DO $$
            DECLARE
                today date := (now() AT TIME ZONE 'Asia/Shanghai')::date;
                month date;
                last date;
            BEGIN
                SELECT date_trunc('month', least(coalesce(min(at AT TIME ZONE 'Asia/Shanghai')::date, today), today))::date,
                       (date_trunc('month', today) + interval '2 months')::date
                INTO month, last FROM gateway.access_log_unpartitioned;
                WHILE month <= last LOOP
                    EXECUTE format('CREATE TABLE gateway.%I PARTITION OF gateway.access_log FOR VALUES FROM (%L) TO (%L)',
                                   'access_log_' || to_char(month, 'YYYY_MM'), month::text || ' 00:00:00+08',
                                   (month + interval '1 month')::date::text || ' 00:00:00+08');
                    month := (month + interval '1 month')::date;
                END LOOP;
            END $$;
            INSERT INTO gateway.access_log (id, at, subject, centre_code, method, record_ids, outcome, rule, peer, duration_ms)
            SELECT id, at, subject, centre_code, method, record_ids, outcome, rule, peer, duration_ms
            FROM gateway.access_log_unpartitioned;
            DROP TABLE gateway.access_log_unpartitioned;
            """),
        Migration(version: 7, name: "access log spool files written", sql: """
            -- The spool files (AccessSpool) whose rows are in the access log, each recorded in
            -- the transaction that copied it: a file a killed gateway left behind after that
            -- commit is recognised and not copied twice. A row goes once its file is removed,
            -- so the table holds a few rows at a time.
            CREATE TABLE gateway.access_spool_files (
                file      uuid PRIMARY KEY,
                copied_at timestamptz NOT NULL DEFAULT now()
            );
            """),
    ]

    static var migrator: Migrator { Migrator(schema: schema, migrations: all) }
}
