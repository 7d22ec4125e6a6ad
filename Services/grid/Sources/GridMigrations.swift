import PinganAccess
import PinganDomain
import PinganOutbox
import PinganPostgres

/// Schema `grid`, owned by grid-service alone. Append new migrations; never edit one that
/// has shipped (the migrator refuses a changed checksum).
enum GridMigrations {
    static let schema = "grid"

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
        Migration(version: 2, name: "grids, members and incidents", sql: """
            CREATE TABLE grid.grids (
                id           uuid PRIMARY KEY,
                village_code text COLLATE "C" NOT NULL REFERENCES grid.divisions (code),
                name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
                created_at   timestamptz NOT NULL DEFAULT now(),
                UNIQUE (village_code, name)
            );
            CREATE TABLE grid.members (
                id         uuid PRIMARY KEY,
                grid_id    uuid NOT NULL REFERENCES grid.grids (id),
                name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
                role       text NOT NULL CHECK (role IN ('grid_worker', 'mediation_director', 'political_legal_officer', 'safety_volunteer')),
                created_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX members_grid ON grid.members (grid_id);
            -- Parties' names and phones are not kept here: they travel to dispute-service,
            -- which owns the case, in the incident's event.
            CREATE TABLE grid.incidents (
                id                 uuid PRIMARY KEY,
                grid_id            uuid NOT NULL REFERENCES grid.grids (id),
                village_code       text COLLATE "C" NOT NULL,
                reporter_member_id uuid NOT NULL REFERENCES grid.members (id),
                category           integer NOT NULL,
                description        text NOT NULL CHECK (length(description) BETWEEN 1 AND 2000),
                party_count        integer NOT NULL CHECK (party_count BETWEEN 1 AND 20),
                threat_of_violence boolean NOT NULL,
                threat_of_self_harm boolean NOT NULL,
                repeat_incident    boolean NOT NULL,
                prior_police_calls integer NOT NULL CHECK (prior_police_calls BETWEEN 0 AND 100),
                reported_at        timestamptz NOT NULL DEFAULT now()
            );
            CREATE INDEX incidents_village_time ON grid.incidents (village_code, reported_at);
            """),
        Outbox.migration(version: 3, schema: schema),
        Migration(version: 4, name: "daily screening", sql: """
            -- 每日信息排查: one row per grid and day, "nothing found" included.
            CREATE TABLE grid.screenings (
                grid_id            uuid NOT NULL REFERENCES grid.grids (id),
                day                date NOT NULL,
                village_code       text COLLATE "C" NOT NULL,
                reporter_member_id uuid NOT NULL REFERENCES grid.members (id),
                households_visited integer NOT NULL CHECK (households_visited BETWEEN 0 AND 10000),
                disputes_found     integer NOT NULL CHECK (disputes_found BETWEEN 0 AND 1000),
                recorded_at        timestamptz NOT NULL,
                PRIMARY KEY (grid_id, day)
            );
            CREATE INDEX screenings_village_day ON grid.screenings (village_code, day);
            """),
        Migration(version: 5, name: "idempotency keys", sql: """
            -- A client's request_id and what it created, so a retry returns the first result.
            CREATE TABLE grid.requests (
                request_id uuid PRIMARY KEY,
                subject    text NOT NULL,
                method     text NOT NULL,
                result_id  uuid NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now()
            );
            """),
        Migration(version: 6, name: "who filed each report", sql: """
            -- The signed-in caller who filed a report, beside the grid member it names as the
            -- reporter: a township's staff filing for a village's grid worker is on record.
            ALTER TABLE grid.incidents ADD COLUMN filed_by text;
            """),
        Migration.vacuumOften(version: 7, "grid.outbox"),
    ]

    static var migrator: Migrator { Migrator(schema: schema, migrations: all) }
}
