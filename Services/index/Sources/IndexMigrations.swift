import PinganPostgres

/// Schema `index`, owned by index-service alone. Append; never edit a shipped migration.
enum IndexMigrations {
    static let schema = "index"

    static let all: [Migration] = [
        Migration(version: 1, name: "monthly scores", sql: """
            CREATE TABLE index.scores (
                month       text NOT NULL CHECK (month ~ '^[0-9]{4}-[0-9]{2}$'),
                code        text COLLATE "C" NOT NULL,
                name        text NOT NULL,
                parent_code text COLLATE "C",
                score       double precision NOT NULL,
                rank        integer NOT NULL,
                indicators  jsonb NOT NULL,
                computed_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (month, code)
            );
            CREATE INDEX scores_parent ON index.scores (month, parent_code, rank);
            """),
    ]

    static var migrator: Migrator { Migrator(schema: schema, migrations: all) }
}
