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
        Migration(version: 8, name: "imported history", sql: """
            -- Records brought in from the system a deployment replaces (docs/importing.md): the
            -- old system's id, which makes importing the same file again change nothing, and
            -- who imported each record and when. Nullable, no default: no rewrite of the tables.
            ALTER TABLE grid.grids ADD COLUMN legacy_id text CHECK (length(legacy_id) BETWEEN 1 AND 100),
                ADD COLUMN imported_by text, ADD COLUMN imported_at timestamptz,
                ADD CONSTRAINT grids_legacy_id UNIQUE (legacy_id),
                ADD CONSTRAINT grids_imported CHECK ((imported_by IS NULL) = (imported_at IS NULL));
            ALTER TABLE grid.members ADD COLUMN legacy_id text CHECK (length(legacy_id) BETWEEN 1 AND 100),
                ADD COLUMN imported_by text, ADD COLUMN imported_at timestamptz,
                ADD CONSTRAINT members_legacy_id UNIQUE (legacy_id),
                ADD CONSTRAINT members_imported CHECK ((imported_by IS NULL) = (imported_at IS NULL));
            """),
        Migration(version: 9, name: "screenings partitioned by month", sql: """
            -- 每日信息排查 grows by a row per grid and day, about 4.4 million a year for Changde's
            -- 12,000 grids. Partitioned by month: retention detaches and drops a month instead of
            -- deleting millions of rows (ScreeningPartitions), and a month's facts read one
            -- partition. The rows move once, here, under this migration's lock; later partitions
            -- are made ahead of time by ScreeningPartitions without blocking writes.
            ALTER TABLE grid.screenings RENAME TO screenings_unpartitioned;
            ALTER TABLE grid.screenings_unpartitioned RENAME CONSTRAINT screenings_pkey TO screenings_unpartitioned_pkey;
            ALTER INDEX grid.screenings_village_day RENAME TO screenings_unpartitioned_village_day;
            CREATE TABLE grid.screenings (
                grid_id            uuid NOT NULL REFERENCES grid.grids (id),
                day                date NOT NULL,
                village_code       text COLLATE "C" NOT NULL,
                reporter_member_id uuid NOT NULL REFERENCES grid.members (id),
                households_visited integer NOT NULL CHECK (households_visited BETWEEN 0 AND 10000),
                disputes_found     integer NOT NULL CHECK (disputes_found BETWEEN 0 AND 1000),
                recorded_at        timestamptz NOT NULL,
                legacy_id          text CHECK (length(legacy_id) BETWEEN 1 AND 100),
                imported_by        text,
                imported_at        timestamptz,
                CHECK ((imported_by IS NULL) = (imported_at IS NULL)),
                PRIMARY KEY (grid_id, day)
            ) PARTITION BY RANGE (day);
            CREATE INDEX screenings_village_day ON grid.screenings (village_code, day);
            -- One partition per month from the first stored day to two months after today
            -- (China time), named screenings_YYYY_MM.
            DO $$
            DECLARE
                today date := (now() AT TIME ZONE 'Asia/Shanghai')::date;
                month date;
                last date;
            BEGIN
                SELECT date_trunc('month', least(coalesce(min(day), today), today))::date,
                       (date_trunc('month', greatest(coalesce(max(day), today), today)) + interval '2 months')::date
                INTO month, last FROM grid.screenings_unpartitioned;
                WHILE month <= last LOOP
                    EXECUTE format('CREATE TABLE grid.%I PARTITION OF grid.screenings FOR VALUES FROM (%L) TO (%L)',
                                   'screenings_' || to_char(month, 'YYYY_MM'), month, (month + interval '1 month')::date);
                    month := (month + interval '1 month')::date;
                END LOOP;
            END $$;
            INSERT INTO grid.screenings (grid_id, day, village_code, reporter_member_id, households_visited, disputes_found, recorded_at)
            SELECT grid_id, day, village_code, reporter_member_id, households_visited, disputes_found, recorded_at
            FROM grid.screenings_unpartitioned;
            DROP TABLE grid.screenings_unpartitioned;
            """),
        // ListGrids pages a subtree in (created_at, id) order: without this the city's first
        // page read and sorted all of its ~12,000 grids (5.8 ms), now 51 rows (0.2 ms). A
        // township's few dozen grids still come by their village (grids_village_code_name_key).
        // 12,000 rows build in tens of milliseconds, so no CONCURRENTLY.
        Migration(version: 10, name: "grids in their listing order", sql: """
            SET LOCAL lock_timeout = '5s';
            CREATE INDEX grids_created_order ON grid.grids (created_at, id);
            """),
        // What a grid worker wrote about a dispute names its people, and grid-service never
        // read it back: it travels to dispute-service in the incident's event (whose payload
        // is cleared once delivered), where the case keeps it for mediation and erases it with
        // the parties (PARTY_RETENTION_DAYS). Here it was kept for ever, so it goes.
        Migration(version: 11, name: "a report's words kept by the case only", sql: """
            SET LOCAL lock_timeout = '5s';
            ALTER TABLE grid.incidents DROP COLUMN description;
            """),
        // The counties under this mesh that run a mesh of their own, as dispute-service last
        // listed them (``FederatedCounties``): their grids report and screen there, so this
        // mesh records nothing new under them. A handful of rows, read by key with each report.
        Migration(version: 12, name: "counties that run their own platform", sql: """
            CREATE TABLE grid.federated_counties (
                county_code text PRIMARY KEY,
                known_since timestamptz NOT NULL
            );
            """),
    ]

    static var migrator: Migrator { Migrator(schema: schema, migrations: all) }
}
