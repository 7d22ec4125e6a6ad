import PinganOutbox
import PinganPostgres

/// Schema `dispute`, owned by dispute-service alone. Append; never edit a shipped migration.
enum DisputeMigrations {
    static let schema = "dispute"

    static let all: [Migration] = [
        Migration(version: 1, name: "cases and timeline", sql: """
            CREATE TABLE dispute.cases (
                id                  uuid PRIMARY KEY,
                -- One case per incident: redelivered events find the case already open.
                incident_id         uuid UNIQUE,
                village_code        text COLLATE "C" NOT NULL CHECK (village_code ~ '^[0-9]{12}$'),
                category            integer NOT NULL,
                source              integer NOT NULL,
                status              text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
                description         text NOT NULL,
                parties             jsonb NOT NULL,
                threat_of_violence  boolean NOT NULL,
                threat_of_self_harm boolean NOT NULL,
                repeat_incident     boolean NOT NULL,
                prior_police_calls  integer NOT NULL,
                opened_at           timestamptz NOT NULL DEFAULT clock_timestamp(),
                resolved_at         timestamptz,
                outcome             text
            );
            CREATE INDEX cases_village_opened ON dispute.cases (village_code, opened_at);
            -- Append-only: rows are inserted, never updated or deleted.
            CREATE TABLE dispute.timeline (
                id      bigserial PRIMARY KEY,
                case_id uuid NOT NULL REFERENCES dispute.cases (id),
                at      timestamptz NOT NULL DEFAULT clock_timestamp(),
                kind    text NOT NULL,
                note    text NOT NULL,
                actor   text NOT NULL
            );
            CREATE INDEX timeline_case ON dispute.timeline (case_id, id);
            -- Every read of parties' unmasked names and phones.
            CREATE TABLE dispute.personal_data_reads (
                id      bigserial PRIMARY KEY,
                at      timestamptz NOT NULL DEFAULT clock_timestamp(),
                subject text NOT NULL,
                centre  text NOT NULL,
                case_id uuid NOT NULL REFERENCES dispute.cases (id),
                rule    text NOT NULL
            );
            """),
        Outbox.migration(version: 2, schema: schema),
    ]

    static var migrator: Migrator { Migrator(schema: schema, migrations: all) }
}
