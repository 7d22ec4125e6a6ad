import PinganOutbox
import PinganPostgres

/// Schema `risk`, owned by risk-service alone. Append; never edit a shipped migration.
enum RiskMigrations {
    static let schema = "risk"

    static let all: [Migration] = [
        Migration(version: 1, name: "assessments and warnings", sql: """
            CREATE TABLE risk.assessments (
                case_id      uuid PRIMARY KEY,
                village_code text COLLATE "C" NOT NULL,
                score        integer NOT NULL CHECK (score BETWEEN 0 AND 100),
                threshold    integer NOT NULL,
                reasons      jsonb NOT NULL,
                warning_id   uuid,
                assessed_at  timestamptz NOT NULL DEFAULT clock_timestamp()
            );
            CREATE TABLE risk.warnings (
                id              uuid PRIMARY KEY,
                -- At most one warning per case.
                case_id         uuid NOT NULL UNIQUE REFERENCES risk.assessments (case_id),
                centre_code     text COLLATE "C" NOT NULL,
                village_code    text COLLATE "C" NOT NULL,
                score           integer NOT NULL,
                status          text NOT NULL DEFAULT 'raised' CHECK (status IN ('raised', 'acknowledged')),
                raised_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
                acknowledged_at timestamptz,
                acknowledged_by text
            );
            CREATE INDEX warnings_centre ON risk.warnings (centre_code, raised_at);
            CREATE INDEX warnings_village ON risk.warnings (village_code, raised_at);
            """),
        Outbox.migration(version: 2, schema: schema),
    ]

    static var migrator: Migrator { Migrator(schema: schema, migrations: all) }
}
