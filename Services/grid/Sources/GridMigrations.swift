import PinganPostgres

/// Schema `grid`, owned by grid-service alone. Append new migrations; never edit one that
/// has shipped (the migrator refuses a changed checksum).
enum GridMigrations {
    static let all: [Migration] = [
        Migration(version: 1, name: "divisions", sql: """
            CREATE TABLE grid.divisions (
                code        text COLLATE "C" PRIMARY KEY CHECK (code ~ '^[0-9]{12}$'),
                name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
                level       text NOT NULL CHECK (level IN ('city', 'county', 'township', 'village')),
                parent_code text COLLATE "C" REFERENCES grid.divisions (code),
                created_at  timestamptz NOT NULL DEFAULT now(),
                updated_at  timestamptz NOT NULL DEFAULT now(),
                CHECK ((level = 'city') = (parent_code IS NULL))
            );
            CREATE INDEX divisions_parent_code ON grid.divisions (parent_code, code);
            """),
    ]

    static var migrator: Migrator { Migrator(schema: "grid", migrations: all) }
}
