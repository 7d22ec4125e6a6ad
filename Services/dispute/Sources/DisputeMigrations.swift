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
        Migration(version: 3, name: "mediation: ladder, agreements, return visits, summons, calendar", sql: """
            ALTER TABLE dispute.cases DROP CONSTRAINT cases_status_check;
            ALTER TABLE dispute.cases ADD CONSTRAINT cases_status_check
                CHECK (status IN ('open', 'resolved', 'settled', 'closed'));
            ALTER TABLE dispute.cases
                ADD COLUMN coordinator_code text COLLATE "C",
                ADD COLUMN violence_occurred boolean NOT NULL DEFAULT false,
                ADD COLUMN incidents integer NOT NULL DEFAULT 1,
                ADD COLUMN major_departments text[],
                ADD COLUMN resident_representatives integer,
                ADD COLUMN current_rung integer,
                -- The parties' names, normalised, to find a case between the same parties again.
                ADD COLUMN party_names text[] NOT NULL DEFAULT '{}',
                ADD COLUMN settled_at timestamptz,
                ADD COLUMN closed_at timestamptz;
            UPDATE dispute.cases SET coordinator_code = CASE WHEN substr(village_code, 10, 3) <> '000'
                THEN substr(village_code, 1, 9) || '000' ELSE village_code END;
            ALTER TABLE dispute.cases ALTER COLUMN coordinator_code SET NOT NULL;
            CREATE INDEX cases_village_status ON dispute.cases (village_code, status);
            -- Idempotency keys of cases opened by people and department systems.
            CREATE TABLE dispute.intake_requests (
                request_id uuid PRIMARY KEY,
                subject    text NOT NULL,
                case_id    uuid REFERENCES dispute.cases (id),
                joined     boolean NOT NULL DEFAULT false
            );
            -- Every incident a case holds: the one it was opened from and those that joined it.
            CREATE TABLE dispute.case_incidents (
                incident_id uuid PRIMARY KEY,
                case_id     uuid NOT NULL REFERENCES dispute.cases (id)
            );
            INSERT INTO dispute.case_incidents (incident_id, case_id)
                SELECT incident_id, id FROM dispute.cases WHERE incident_id IS NOT NULL;
            CREATE TABLE dispute.rung_attempts (
                id                  uuid PRIMARY KEY,
                -- The order attempts were made in, when several share a timestamp.
                seq                 bigserial NOT NULL,
                case_id             uuid NOT NULL REFERENCES dispute.cases (id),
                rung                integer NOT NULL CHECK (rung BETWEEN 1 AND 5),
                kind                text NOT NULL,
                lead                text NOT NULL,
                participants        text[] NOT NULL,
                bodies              text[] NOT NULL,
                centre_code         text COLLATE "C" NOT NULL,
                started_by          text NOT NULL,
                started_at          timestamptz NOT NULL,
                due_at              timestamptz NOT NULL,
                beyond_calendar     boolean NOT NULL,
                outcome             text CHECK (outcome IN ('settled', 'eased', 'failed')),
                outcome_note        text,
                ended_at            timestamptz,
                overdue_notified_at timestamptz
            );
            CREATE INDEX rung_attempts_case ON dispute.rung_attempts (case_id, seq);
            CREATE INDEX rung_attempts_due ON dispute.rung_attempts (due_at)
                WHERE ended_at IS NULL AND overdue_notified_at IS NULL;
            CREATE TABLE dispute.rung_skips (
                case_id uuid NOT NULL REFERENCES dispute.cases (id),
                rung    integer NOT NULL,
                reason  text NOT NULL,
                by      text NOT NULL,
                at      timestamptz NOT NULL
            );
            CREATE TABLE dispute.agreements (
                id          uuid PRIMARY KEY,
                seq         bigserial NOT NULL,
                case_id     uuid NOT NULL REFERENCES dispute.cases (id),
                attempt_id  uuid NOT NULL REFERENCES dispute.rung_attempts (id),
                terms       text NOT NULL,
                signed_on   date NOT NULL,
                signatories text[] NOT NULL,
                created_at  timestamptz NOT NULL
            );
            CREATE INDEX agreements_case ON dispute.agreements (case_id, seq);
            CREATE TABLE dispute.return_visits (
                id                  uuid PRIMARY KEY,
                seq                 bigserial NOT NULL,
                case_id             uuid NOT NULL REFERENCES dispute.cases (id),
                agreement_id        uuid NOT NULL REFERENCES dispute.agreements (id),
                due_at              timestamptz NOT NULL,
                beyond_calendar     boolean NOT NULL,
                outcome             text CHECK (outcome IN ('confirmed', 'unsettled')),
                note                text,
                visited_at          timestamptz,
                visited_by          text,
                overdue_notified_at timestamptz,
                created_at          timestamptz NOT NULL
            );
            CREATE INDEX return_visits_case ON dispute.return_visits (case_id, seq);
            CREATE INDEX return_visits_due ON dispute.return_visits (due_at)
                WHERE visited_at IS NULL AND overdue_notified_at IS NULL;
            CREATE TABLE dispute.departments (
                id           uuid PRIMARY KEY,
                centre_code  text COLLATE "C" NOT NULL,
                name         text NOT NULL,
                api_key_name text NOT NULL UNIQUE,
                created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
                UNIQUE (centre_code, name)
            );
            CREATE TABLE dispute.summons (
                id                           uuid PRIMARY KEY,
                case_id                      uuid NOT NULL REFERENCES dispute.cases (id),
                department_id                uuid NOT NULL REFERENCES dispute.departments (id),
                summoned_by                  text COLLATE "C" NOT NULL,
                report_due                   timestamptz NOT NULL,
                report_beyond_calendar       boolean NOT NULL,
                feedback_due                 timestamptz NOT NULL,
                feedback_beyond_calendar     boolean NOT NULL,
                reported_at                  timestamptz,
                feedback                     text,
                fed_back_at                  timestamptz,
                report_overdue_notified_at   timestamptz,
                feedback_overdue_notified_at timestamptz,
                created_at                   timestamptz NOT NULL
            );
            CREATE INDEX summons_case ON dispute.summons (case_id, created_at);
            CREATE INDEX summons_department ON dispute.summons (department_id);
            CREATE INDEX summons_report_due ON dispute.summons (report_due)
                WHERE reported_at IS NULL AND report_overdue_notified_at IS NULL;
            CREATE INDEX summons_feedback_due ON dispute.summons (feedback_due)
                WHERE fed_back_at IS NULL AND feedback_overdue_notified_at IS NULL;
            -- The official calendar: the days that break the Monday-to-Friday rule, and the
            -- years whose notice is loaded.
            CREATE TABLE dispute.calendar_days (
                day  date PRIMARY KEY,
                kind text NOT NULL CHECK (kind IN ('holiday', 'workday')),
                name text NOT NULL
            );
            CREATE TABLE dispute.calendar_years (
                year      integer PRIMARY KEY,
                loaded_at timestamptz NOT NULL DEFAULT clock_timestamp()
            );
            """),
        Migration(version: 4, name: "finding a case by its parties", sql: """
            -- A new incident joins the open case of the same parties: found by name, not by
            -- reading every case of the village (a busy village made each report slower).
            CREATE INDEX cases_party_names ON dispute.cases USING gin (party_names);
            """),
        Migration(version: 5, name: "the party-name index without a pending list", sql: """
            -- GIN's fast update parks new entries in a list that every search reads through
            -- until a vacuum merges it: under a steady flow of reports each lookup grew to
            -- milliseconds. Entries now go straight into the index.
            ALTER INDEX dispute.cases_party_names SET (fastupdate = off);
            SELECT gin_clean_pending_list('dispute.cases_party_names'::regclass);
            """),
        Migration.vacuumOften(version: 6, "dispute.outbox"),
        Migration(version: 7, name: "a case's revision", sql: """
            -- Bumped by every change to a case: a mediation step decided on a case file is
            -- applied only if the case is still at the revision the file was read at.
            ALTER TABLE dispute.cases ADD COLUMN revision integer NOT NULL DEFAULT 0;
            """),
        Migration(version: 8, name: "a case's reports, each with its own facts", sql: """
            -- Every report that opened or joined a case, with its own source, time and facts; the
            -- case keeps the worst of them. Written in the transaction that opens or joins the
            -- case; never updated. A case may gather thousands: read a page at a time through
            -- the index, newest first.
            CREATE TABLE dispute.case_reports (
                id                  uuid PRIMARY KEY,
                case_id             uuid NOT NULL REFERENCES dispute.cases (id),
                source              integer NOT NULL,
                incident_id         uuid,
                reported_at         timestamptz NOT NULL,
                description         text NOT NULL,
                threat_of_violence  boolean NOT NULL,
                threat_of_self_harm boolean NOT NULL,
                violence_occurred   boolean NOT NULL,
                minors_involved     boolean NOT NULL,
                prior_police_calls  integer NOT NULL,
                opened_case         boolean NOT NULL,
                backfilled          boolean NOT NULL DEFAULT false
            );
            CREATE INDEX case_reports_case_newest ON dispute.case_reports (case_id, reported_at DESC, id DESC);
            -- The worst facts a case shows that it did not keep before, and its newest report
            -- (NULL while the opening report is the newest).
            ALTER TABLE dispute.cases
                ADD COLUMN minors_involved boolean NOT NULL DEFAULT false,
                ADD COLUMN latest_source integer,
                ADD COLUMN latest_reported_at timestamptz;
            UPDATE dispute.cases SET minors_involved = true
                WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(parties) p WHERE p->>'minor' = 'true');
            -- BACKFILLED: one row per case that existed before reports were kept, made from what
            -- the case held: its opening source, incident, time and description, with its merged
            -- facts (the joined reports were not kept, so they cannot be told apart). Marked
            -- backfilled = true, and the API says so.
            INSERT INTO dispute.case_reports (id, case_id, source, incident_id, reported_at, description, threat_of_violence,
                    threat_of_self_harm, violence_occurred, minors_involved, prior_police_calls, opened_case, backfilled)
                SELECT gen_random_uuid(), id, source, incident_id, opened_at, description, threat_of_violence,
                       threat_of_self_harm, violence_occurred, minors_involved, prior_police_calls, true, true
                FROM dispute.cases;
            """),
        Migration(version: 9, name: "steps recorded after the fact (补录)", sql: """
            -- A step may be written up after it happened: started_at, ended_at and visited_at keep
            -- when it really happened (deadlines and the index count from them); when it was
            -- entered, and who entered an attempt's end, are kept beside them. Rows from before
            -- were entered as they happened, so their entry times are their real times; an end's
            -- enterer is the actor of the rung_ended line written with it, where there is one.
            ALTER TABLE dispute.rung_attempts
                ADD COLUMN start_entered_at timestamptz,
                ADD COLUMN ended_by text,
                ADD COLUMN end_entered_at timestamptz;
            UPDATE dispute.rung_attempts a SET start_entered_at = a.started_at, end_entered_at = a.ended_at,
                ended_by = (SELECT t.actor FROM dispute.timeline t
                            WHERE t.case_id = a.case_id AND t.kind = 'rung_ended' AND t.at = a.ended_at ORDER BY t.id LIMIT 1);
            ALTER TABLE dispute.rung_attempts ALTER COLUMN start_entered_at SET NOT NULL;
            ALTER TABLE dispute.return_visits ADD COLUMN entered_at timestamptz;
            UPDATE dispute.return_visits SET entered_at = visited_at WHERE visited_at IS NOT NULL;
            """),
        Migration(version: 10, name: "who filed a report", sql: """
            -- The principal subject that filed a report (user:wang), as OpenCase brought it, so a
            -- grid worker can list what became of their reports (ListMyReports). NULL for reports
            -- kept before reporters were, and for reports that named none. Only rows with a
            -- reporter are indexed: a reporter's reports are read a page at a time, newest first.
            ALTER TABLE dispute.case_reports ADD COLUMN reported_by text;
            CREATE INDEX case_reports_reporter_newest ON dispute.case_reports (reported_by, reported_at DESC, id DESC)
                WHERE reported_by IS NOT NULL;
            """),
        Migration(version: 11, name: "a department's summons, newest first", sql: """
            -- A department lists the summons addressed to it a page at a time, newest first
            -- (ListMySummons); this index serves that order and the department lookups.
            CREATE INDEX summons_department_newest ON dispute.summons (department_id, created_at DESC, id DESC);
            DROP INDEX dispute.summons_department;
            """),
        Migration(version: 12, name: "residents' own requests", sql: """
            -- A resident's request (群众诉求) from an app or the resident pages. The filer's phone
            -- and name are personal data: masked in every answer but the filer's own, whose reads
            -- are audited in resident_request_reads. place_code is the village once placed, the
            -- centre placing it before; public lists read it, never a finer location.
            CREATE TABLE dispute.resident_requests (
                id                 uuid PRIMARY KEY,
                request_id         uuid NOT NULL UNIQUE,
                tracking_id        text COLLATE "C" NOT NULL UNIQUE,
                token              text COLLATE "C" NOT NULL UNIQUE,
                filed_by           text NOT NULL,
                channel            text NOT NULL CHECK (channel IN ('app', 'web')),
                category           integer NOT NULL,
                sensitive          boolean NOT NULL,
                village_code       text COLLATE "C" CHECK (village_code ~ '^[0-9]{12}$'),
                triage_code        text COLLATE "C" NOT NULL CHECK (triage_code ~ '^[0-9]{12}$'),
                place_code         text COLLATE "C" NOT NULL,
                address_key        text NOT NULL,
                description        text NOT NULL,
                phone              text NOT NULL,
                name               text NOT NULL,
                other_party        text NOT NULL,
                media_urls         text[] NOT NULL,
                latitude           double precision,
                longitude          double precision,
                address            text NOT NULL,
                threat_of_violence boolean NOT NULL,
                threat_of_self_harm boolean NOT NULL,
                case_id            uuid REFERENCES dispute.cases (id),
                requested_at       timestamptz NOT NULL,
                placed_at          timestamptz,
                placed_by          text,
                rating_token_hash  text UNIQUE,
                rating             smallint CHECK (rating BETWEEN 1 AND 5),
                rating_comment     text,
                rated_at           timestamptz,
                -- When the filer's personal data was erased (RESIDENT_RETENTION_DAYS).
                erased_at          timestamptz,
                CHECK ((village_code IS NULL) = (case_id IS NULL))
            );
            CREATE INDEX resident_requests_kept ON dispute.resident_requests (requested_at) WHERE erased_at IS NULL;
            CREATE INDEX resident_requests_public ON dispute.resident_requests (place_code, requested_at DESC, id DESC) WHERE NOT sensitive;
            CREATE INDEX resident_requests_phone ON dispute.resident_requests (phone, requested_at DESC, id DESC);
            CREATE INDEX resident_requests_filer ON dispute.resident_requests (filed_by, requested_at);
            CREATE INDEX resident_requests_address ON dispute.resident_requests (address_key, requested_at);
            CREATE INDEX resident_requests_case ON dispute.resident_requests (case_id) WHERE case_id IS NOT NULL;
            CREATE INDEX resident_requests_waiting ON dispute.resident_requests (triage_code, requested_at, id) WHERE case_id IS NULL;
            CREATE INDEX resident_requests_rated ON dispute.resident_requests (village_code, rated_at) WHERE rated_at IS NOT NULL;
            CREATE TABLE dispute.resident_request_reads (
                id         bigserial PRIMARY KEY,
                at         timestamptz NOT NULL DEFAULT clock_timestamp(),
                subject    text NOT NULL,
                request_id uuid NOT NULL REFERENCES dispute.resident_requests (id),
                rule       text NOT NULL
            );
            """),
        Migration(version: 13, name: "cases imported from an older system", sql: """
            -- A case brought in from the system a deployment replaces (dispute-service import
            -- cases): its id there, who imported it and when. NULL for cases opened in Pingan.
            -- The partial unique index makes a re-import of the same file change nothing.
            ALTER TABLE dispute.cases
                ADD COLUMN legacy_id text,
                ADD COLUMN imported_by text,
                ADD COLUMN imported_at timestamptz;
            CREATE UNIQUE INDEX cases_legacy ON dispute.cases (legacy_id) WHERE legacy_id IS NOT NULL;
            ALTER TABLE dispute.departments ADD COLUMN legacy_id text;
            CREATE UNIQUE INDEX departments_legacy ON dispute.departments (legacy_id) WHERE legacy_id IS NOT NULL;
            """),
        Migration(version: 14, name: "cases newest first across a subtree", sql: """
            -- ListCases pages a subtree's cases newest first. (village_code, opened_at) cannot
            -- give that order across the villages of a county or the city, so every page read and
            -- sorted the whole subtree (a city year: 90 ms a page); walking this index newest
            -- first, filtering by village, reads a page's worth (0.5 ms). Built in the
            -- migration's transaction: at a city's 100,000 cases a year, well under a second.
            CREATE INDEX cases_newest ON dispute.cases (opened_at DESC, id DESC);
            """),
        Migration(version: 15, name: "federation between meshes", sql: """
            -- docs/architecture.md, "Deployed per level". The city's side: a copy of a case owned by
            -- a county's mesh names that county and the version of the snapshot it was last
            -- replaced by; both NULL on the mesh's own cases, which are the only ones it changes.
            ALTER TABLE dispute.cases ADD COLUMN federated_from text COLLATE "C", ADD COLUMN federated_version bigint;
            -- A copied timeline line keeps its id in the owning mesh: a line sent twice is kept once.
            ALTER TABLE dispute.timeline ADD COLUMN origin_id bigint;
            CREATE UNIQUE INDEX timeline_origin ON dispute.timeline (case_id, origin_id) WHERE origin_id IS NOT NULL;
            -- Each county heard from: when, and the newest change of it applied.
            CREATE TABLE dispute.federation_peers (
                county_code    text COLLATE "C" PRIMARY KEY,
                heard_at       timestamptz NOT NULL,
                newest_version bigint NOT NULL DEFAULT 0
            );
            -- Steps the city takes on a county's case it coordinates (handing it back), for the
            -- county's mesh to apply: fetched by the county's relay, kept with their outcome.
            CREATE TABLE dispute.federation_orders (
                id              uuid PRIMARY KEY,
                case_id         uuid NOT NULL REFERENCES dispute.cases (id),
                county_code     text COLLATE "C" NOT NULL,
                kind            text NOT NULL CHECK (kind IN ('hand_back')),
                note            text NOT NULL,
                actor           text NOT NULL,
                centre_code     text COLLATE "C" NOT NULL,
                ordered_at      timestamptz NOT NULL,
                applied_at      timestamptz,
                outcome_code    text,
                outcome_message text
            );
            CREATE INDEX federation_orders_waiting ON dispute.federation_orders (county_code, ordered_at) WHERE applied_at IS NULL;

            -- The county's side. Where this mesh sends its cases: one row, or none when it sends
            -- them nowhere (then nothing below is written).
            CREATE TABLE dispute.federation_upstream (
                single boolean PRIMARY KEY DEFAULT true CHECK (single),
                url    text NOT NULL
            );
            -- Each case changed since its last snapshot reached the city, marked by the
            -- transaction that changed it (the triggers below), so no change goes unsent. The
            -- version is drawn once the row is locked, so it rises in the order the changes commit.
            CREATE SEQUENCE dispute.federation_versions;
            CREATE TABLE dispute.federation_changes (
                case_id         uuid PRIMARY KEY,
                version         bigint NOT NULL,
                attempts        integer NOT NULL DEFAULT 0,
                next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                last_error      text,
                parked_at       timestamptz
            );
            CREATE INDEX federation_changes_due ON dispute.federation_changes (version) WHERE parked_at IS NULL;
            -- Timeline lines and reports not yet sent: appended rows travel once each, not with
            -- every snapshot of a case that draws thousands of reports.
            CREATE TABLE dispute.federation_rows (
                id          bigserial PRIMARY KEY,
                case_id     uuid NOT NULL,
                timeline_id bigint,
                report_id   uuid
            );
            CREATE INDEX federation_rows_case ON dispute.federation_rows (case_id, id);
            -- Each order of the city this mesh applied (or refused), written with the change it
            -- made, so an order fetched twice is applied once; kept until the city has heard.
            CREATE TABLE dispute.federation_orders_applied (
                order_id        uuid PRIMARY KEY,
                code            text NOT NULL,
                message         text NOT NULL,
                applied_at      timestamptz NOT NULL,
                acknowledged_at timestamptz
            );
            CREATE FUNCTION dispute.federation_mark() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NOT EXISTS (SELECT 1 FROM dispute.federation_upstream) THEN
                    RETURN NULL;
                END IF;
                IF TG_TABLE_NAME = 'cases' THEN
                    INSERT INTO dispute.federation_changes AS f (case_id, version)
                    SELECT id, nextval('dispute.federation_versions') FROM (SELECT DISTINCT id FROM changed) c
                    ON CONFLICT (case_id) DO UPDATE SET version = nextval('dispute.federation_versions'), attempts = 0,
                        next_attempt_at = clock_timestamp(), last_error = NULL, parked_at = NULL;
                    RETURN NULL;
                ELSIF TG_TABLE_NAME = 'timeline' THEN
                    INSERT INTO dispute.federation_rows (case_id, timeline_id) SELECT case_id, id FROM changed ORDER BY id;
                ELSIF TG_TABLE_NAME = 'case_reports' THEN
                    INSERT INTO dispute.federation_rows (case_id, report_id) SELECT case_id, id FROM changed;
                END IF;
                INSERT INTO dispute.federation_changes AS f (case_id, version)
                SELECT case_id, nextval('dispute.federation_versions') FROM (SELECT DISTINCT case_id FROM changed) c
                ON CONFLICT (case_id) DO UPDATE SET version = nextval('dispute.federation_versions'), attempts = 0,
                    next_attempt_at = clock_timestamp(), last_error = NULL, parked_at = NULL;
                RETURN NULL;
            END
            $$;
            CREATE TRIGGER federation_inserted AFTER INSERT ON dispute.cases
                REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION dispute.federation_mark();
            CREATE TRIGGER federation_updated AFTER UPDATE ON dispute.cases
                REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION dispute.federation_mark();
            CREATE TRIGGER federation_inserted AFTER INSERT ON dispute.rung_attempts
                REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION dispute.federation_mark();
            CREATE TRIGGER federation_updated AFTER UPDATE ON dispute.rung_attempts
                REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION dispute.federation_mark();
            CREATE TRIGGER federation_inserted AFTER INSERT ON dispute.rung_skips
                REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION dispute.federation_mark();
            CREATE TRIGGER federation_inserted AFTER INSERT ON dispute.agreements
                REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION dispute.federation_mark();
            CREATE TRIGGER federation_inserted AFTER INSERT ON dispute.return_visits
                REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION dispute.federation_mark();
            CREATE TRIGGER federation_updated AFTER UPDATE ON dispute.return_visits
                REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION dispute.federation_mark();
            CREATE TRIGGER federation_inserted AFTER INSERT ON dispute.summons
                REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION dispute.federation_mark();
            CREATE TRIGGER federation_updated AFTER UPDATE ON dispute.summons
                REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION dispute.federation_mark();
            CREATE TRIGGER federation_inserted AFTER INSERT ON dispute.timeline
                REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION dispute.federation_mark();
            CREATE TRIGGER federation_inserted AFTER INSERT ON dispute.case_reports
                REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION dispute.federation_mark();
            """),
        Migration(version: 16, name: "the cases still waiting for a step", sql: """
            -- ListDueSteps starts from the cases in progress under a centre; for the city that
            -- is a few thousand of a year's 100,000. Only those rows are indexed, so the build
            -- is short; on a large, busy table build it by hand first (docs/operating.md).
            SET LOCAL lock_timeout = '5s';
            CREATE INDEX IF NOT EXISTS cases_waiting ON dispute.cases (village_code) WHERE status IN ('open', 'settled');
            """),
        Migration(version: 17, name: "pending steps by deadline", sql: """
            -- ListDueSteps for a county or the city walks each kind of pending step in deadline
            -- order and stops at a page (a city year: 5 ms, against 107 ms reading every
            -- waiting case's steps and sorting them). Only pending rows are indexed; on a large,
            -- busy table build them by hand first (docs/operating.md).
            SET LOCAL lock_timeout = '5s';
            CREATE INDEX IF NOT EXISTS rung_attempts_open_due ON dispute.rung_attempts (due_at) WHERE ended_at IS NULL;
            CREATE INDEX IF NOT EXISTS summons_unreported_due ON dispute.summons (report_due) WHERE reported_at IS NULL;
            CREATE INDEX IF NOT EXISTS summons_unanswered_due ON dispute.summons (feedback_due) WHERE reported_at IS NOT NULL AND fed_back_at IS NULL;
            CREATE INDEX IF NOT EXISTS return_visits_pending_due ON dispute.return_visits (due_at) WHERE visited_at IS NULL;
            """),
        Migration(version: 18, name: "parties' personal data kept for a term", sql: """
            -- When the parties' names, phones and every free text written about them were erased
            -- from the case (PARTY_RETENTION_DAYS after it was resolved or closed,
            -- PartyDataRetention); NULL while they are kept. Only the cases still holding them
            -- once ended are indexed, by when they ended: the hourly job reads the oldest first.
            SET LOCAL lock_timeout = '5s';
            ALTER TABLE dispute.cases ADD COLUMN personal_data_erased_at timestamptz;
            CREATE INDEX IF NOT EXISTS cases_personal_data_kept ON dispute.cases ((coalesce(closed_at, resolved_at)))
                WHERE personal_data_erased_at IS NULL AND status IN ('resolved', 'closed');
            """),
        Migration(version: 19, name: "a case's skipped rungs by case", sql: """
            -- Skipped rungs grow with the cases and are read by case: in every snapshot a
            -- county sends the city, the city's replacement of its copy, and the parties'
            -- erasure. Without an index each of those read the whole table.
            SET LOCAL lock_timeout = '5s';
            CREATE INDEX IF NOT EXISTS rung_skips_case ON dispute.rung_skips (case_id);
            """),
        Migration(version: 20, name: "how complete each county's copies are", sql: """
            -- Every change the county committed before this time is in the city's copies (the
            -- relay says so on a call whose snapshots all applied): a month of the county is
            -- complete at the city once this is past its end. NULL until a call has said so.
            SET LOCAL lock_timeout = '5s';
            ALTER TABLE dispute.federation_peers ADD COLUMN complete_as_of timestamptz;
            """),
    ]

    static var migrator: Migrator { Migrator(schema: schema, migrations: all) }
}
