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
    ]

    static var migrator: Migrator { Migrator(schema: schema, migrations: all) }
}
