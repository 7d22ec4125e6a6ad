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
    ]

    static var migrator: Migrator { Migrator(schema: schema, migrations: all) }
}
