import PinganOutbox
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
        Migration(version: 2, name: "versioned months, catalogue, actions, rules and surveys", sql: """
            -- Every computation of a month. A provisional month is replaced in place; a frozen
            -- one is only ever followed by a new version, with a reason.
            CREATE TABLE index.months (
                month             text NOT NULL CHECK (month ~ '^[0-9]{4}-[0-9]{2}$'),
                version           integer NOT NULL CHECK (version >= 1),
                status            text NOT NULL CHECK (status IN ('provisional', 'frozen')),
                catalogue_version text NOT NULL,
                computed_at       timestamptz NOT NULL,
                computed_by       text NOT NULL,
                reason            text NOT NULL DEFAULT '',
                PRIMARY KEY (month, version)
            );
            INSERT INTO index.months (month, version, status, catalogue_version, computed_at, computed_by)
                SELECT month, 1, 'provisional', 'formula-1', max(computed_at), 'index-service' FROM index.scores GROUP BY month;
            ALTER TABLE index.scores
                ADD COLUMN version integer NOT NULL DEFAULT 1,
                ADD COLUMN enough_data boolean NOT NULL DEFAULT true,
                ADD COLUMN rank_low integer NOT NULL DEFAULT 0,
                ADD COLUMN rank_high integer NOT NULL DEFAULT 0;
            ALTER TABLE index.scores DROP CONSTRAINT scores_pkey;
            ALTER TABLE index.scores ADD PRIMARY KEY (month, version, code);
            ALTER TABLE index.scores ADD FOREIGN KEY (month, version) REFERENCES index.months (month, version);
            DROP INDEX index.scores_parent;
            CREATE INDEX scores_parent ON index.scores (month, version, parent_code, rank);
            CREATE INDEX scores_code ON index.scores (code, month);

            -- What a frozen month's scores call for, owned by the reviewing centre.
            CREATE TABLE index.actions (
                id            uuid PRIMARY KEY,
                month         text NOT NULL,
                version       integer NOT NULL,
                division_code text COLLATE "C" NOT NULL,
                division_name text NOT NULL,
                centre_code   text COLLATE "C" NOT NULL,
                kind          text NOT NULL CHECK (kind IN ('share_experience', 'reminder_talk', 'summons')),
                owner         text NOT NULL,
                due_on        date NOT NULL,
                score         double precision NOT NULL,
                status        text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'withdrawn')),
                outcome       text,
                done_by       text,
                done_at       timestamptz,
                created_at    timestamptz NOT NULL,
                FOREIGN KEY (month, version) REFERENCES index.months (month, version)
            );
            CREATE UNIQUE INDEX actions_one_per_kind ON index.actions (month, division_code, kind) WHERE status <> 'withdrawn';
            CREATE INDEX actions_centre ON index.actions (centre_code, month, id);

            -- A centre's own threshold rule for the units it reviews; absent means the seed's.
            CREATE TABLE index.threshold_rules (
                centre_code   text COLLATE "C" PRIMARY KEY,
                share_at      double precision NOT NULL,
                remind_below  double precision NOT NULL,
                summon_below  double precision NOT NULL,
                share_days    integer NOT NULL,
                remind_days   integer NOT NULL,
                summon_days   integer NOT NULL,
                share_owner   text NOT NULL,
                remind_owner  text NOT NULL,
                summon_owner  text NOT NULL,
                set_by        text NOT NULL,
                set_at        timestamptz NOT NULL
            );

            -- Public-opinion survey results, per division and month.
            CREATE TABLE index.surveys (
                month       text NOT NULL CHECK (month ~ '^[0-9]{4}-[0-9]{2}$'),
                code        text COLLATE "C" NOT NULL,
                respondents integer NOT NULL CHECK (respondents > 0),
                satisfied   integer NOT NULL CHECK (satisfied BETWEEN 0 AND respondents),
                loaded_by   text NOT NULL,
                loaded_at   timestamptz NOT NULL,
                PRIMARY KEY (month, code)
            );
            """),
        Outbox.migration(version: 3, schema: schema),
        Migration.vacuumOften(version: 4, "index.outbox"),
        // PostgreSQL spent most of the COPY of a month's scores (2,447 for the city) building
        // each score's indicators as jsonb; into a json column, which only checks the text, the
        // same COPY takes about half as long. No query looks inside the indicators, so jsonb's
        // parsed form bought nothing.
        // Expand, then contract (docs/operating.md): the scores written from this release on
        // keep their indicators in `indicators_json` and '[]' in `indicators`, which holds the
        // rows written before and which the previous release, still serving during a rolling
        // update, reads (it shows the newer scores without their indicators rather than
        // failing). A later release moves the older rows over in batches and drops `indicators`.
        Migration(version: 5, name: "indicators stored as json", sql: """
            SET LOCAL lock_timeout = '5s';
            ALTER TABLE index.scores ADD COLUMN indicators_json json;
            ALTER TABLE index.scores ALTER COLUMN indicators SET DEFAULT '[]';
            """),
        // The city's (or a county's) actions page reads its open actions and a month's in
        // their order: without these it sorted the whole table (10,979 actions a year; 43-69 ms
        // with three). A narrow centre still reads actions_centre. A few thousand rows a
        // month: built in well under a second, so no CONCURRENTLY.
        Migration(version: 6, name: "actions in their order, open or by month", sql: """
            SET LOCAL lock_timeout = '5s';
            CREATE INDEX actions_open_order ON index.actions (created_at, id) WHERE status = 'open';
            CREATE INDEX actions_month_order ON index.actions (month, created_at, id);
            """),
        Migration(version: 7, name: "the counts of counties that run their own mesh", sql: """
            -- At the city: each county's counts of its villages' grids and warnings for a
            -- month (IndexFederationService/ReceiveCountyFacts), replaced whole by a newer
            -- read; read_at decides when an ended month may be frozen. A few hundred
            -- villages a county, one row each a month.
            CREATE TABLE index.county_reads (
                county_code text NOT NULL,
                month       text NOT NULL,
                read_at     timestamptz NOT NULL,
                received_at timestamptz NOT NULL,
                PRIMARY KEY (county_code, month)
            );
            CREATE TABLE index.county_counts (
                month                         text NOT NULL,
                village_code                  text NOT NULL,
                county_code                   text NOT NULL,
                incidents                     integer NOT NULL CHECK (incidents >= 0),
                grids                         integer NOT NULL CHECK (grids >= 0),
                grid_days_screened            integer NOT NULL CHECK (grid_days_screened >= 0),
                nothing_found_days            integer NOT NULL CHECK (nothing_found_days >= 0),
                households_visited            integer NOT NULL CHECK (households_visited >= 0),
                warnings_raised               integer NOT NULL CHECK (warnings_raised >= 0),
                warnings_acknowledged         integer NOT NULL CHECK (warnings_acknowledged >= 0),
                warnings_acknowledged_in_time integer NOT NULL CHECK (warnings_acknowledged_in_time >= 0),
                PRIMARY KEY (month, village_code)
            );
            CREATE INDEX county_counts_county ON index.county_counts (county_code, month);
            -- At a county that runs its own mesh: the newest read of each month whose counts
            -- reached the city (CountyFactsRelay), so an ended month is sent until the city
            -- has its counts from after its end.
            CREATE TABLE index.counts_sent (
                month   text PRIMARY KEY,
                read_at timestamptz NOT NULL,
                sent_at timestamptz NOT NULL
            );
            """),
    ]

    static var migrator: Migrator { Migrator(schema: schema, migrations: all) }
}
