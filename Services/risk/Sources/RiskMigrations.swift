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
        Migration(version: 3, name: "models per category, re-scoring and the warning's closed loop", sql: """
            ALTER TABLE risk.assessments ADD COLUMN model_version text NOT NULL DEFAULT 'rule-1';
            -- Every score a case has had.
            CREATE TABLE risk.assessment_history (
                id            bigserial PRIMARY KEY,
                case_id       uuid NOT NULL REFERENCES risk.assessments (case_id),
                score         integer NOT NULL,
                model_version text NOT NULL,
                reasons       jsonb NOT NULL,
                assessed_at   timestamptz NOT NULL
            );
            CREATE INDEX assessment_history_case ON risk.assessment_history (case_id, id);
            INSERT INTO risk.assessment_history (case_id, score, model_version, reasons, assessed_at)
                SELECT case_id, score, model_version, reasons, assessed_at FROM risk.assessments;
            ALTER TABLE risk.warnings DROP CONSTRAINT warnings_status_check;
            ALTER TABLE risk.warnings ADD CONSTRAINT warnings_status_check
                CHECK (status IN ('raised', 'acknowledged', 'handling', 'fed_back', 'evaluated', 'closed'));
            -- A case has one open warning at a time; a closed one may be followed by another.
            ALTER TABLE risk.warnings DROP CONSTRAINT warnings_case_id_key;
            CREATE UNIQUE INDEX warnings_one_open_per_case ON risk.warnings (case_id) WHERE status <> 'closed';
            ALTER TABLE risk.warnings
                ADD COLUMN count integer NOT NULL DEFAULT 1,
                ADD COLUMN assignee text,
                ADD COLUMN feedback text,
                ADD COLUMN evaluation text,
                ADD COLUMN outcome text,
                ADD COLUMN escalates_at timestamptz,
                ADD COLUMN closed_at timestamptz;
            CREATE INDEX warnings_escalation ON risk.warnings (escalates_at) WHERE status = 'raised';
            -- The warning's closed loop, step by step (预警—处置—反馈—跟踪问效).
            CREATE TABLE risk.warning_steps (
                id         bigserial PRIMARY KEY,
                warning_id uuid NOT NULL REFERENCES risk.warnings (id),
                at         timestamptz NOT NULL,
                kind       text NOT NULL,
                note       text NOT NULL,
                actor      text NOT NULL
            );
            CREATE INDEX warning_steps_warning ON risk.warning_steps (warning_id, id);
            """),
        Migration(version: 4, name: "re-scoring as time passes", sql: """
            -- The facts last assessed, so an open case can be scored again when time alone
            -- changes its score (the months it has been open), and when that is next due.
            ALTER TABLE risk.assessments
                ADD COLUMN facts bytea,
                ADD COLUMN closed boolean NOT NULL DEFAULT false,
                ADD COLUMN rescore_at timestamptz;
            CREATE INDEX assessments_rescore ON risk.assessments (rescore_at) WHERE rescore_at IS NOT NULL;
            """),
        Migration(version: 5, name: "a case's warnings", sql: """
            -- An assessment points at its case's latest warning, found by case rather than by
            -- reading every warning.
            CREATE INDEX warnings_case ON risk.warnings (case_id, raised_at);
            """),
        Migration.vacuumOften(version: 6, "risk.outbox"),
        Migration(version: 7, name: "risk levels", sql: """
            -- The level (general 一般, serious 较大, major 重大) each score and warning had
            -- under the bands of the model version that scored it, stored as given: a later
            -- version's bands never re-judge an old assessment.
            ALTER TABLE risk.assessments ADD COLUMN level text;
            ALTER TABLE risk.assessment_history ADD COLUMN level text;
            ALTER TABLE risk.warnings ADD COLUMN level text;
            -- Rows from before levels get the bands of 2026.11-1, the only catalogue shipped
            -- until then (serious from 60, major from 80, a decisive factor major); those the
            -- rule before it scored ('rule-1') get the same, as it warned at the same 60.
            UPDATE risk.assessment_history SET level = CASE
                WHEN score >= 80 OR reasons @> '[{"decisive": true}]' THEN 'major' WHEN score >= 60 THEN 'serious' ELSE 'general' END;
            UPDATE risk.assessments SET level = CASE
                WHEN score >= 80 OR reasons @> '[{"decisive": true}]' THEN 'major' WHEN score >= 60 THEN 'serious' ELSE 'general' END;
            -- A warning's score is the highest its case reached while it was open; it was
            -- decisive if any score recorded in that time was.
            UPDATE risk.warnings w SET level = CASE
                WHEN w.score >= 80 OR EXISTS (
                    SELECT 1 FROM risk.assessment_history h
                    WHERE h.case_id = w.case_id AND h.assessed_at >= w.raised_at AND (w.closed_at IS NULL OR h.assessed_at <= w.closed_at)
                      AND h.reasons @> '[{"decisive": true}]') THEN 'major'
                WHEN w.score >= 60 THEN 'serious' ELSE 'general' END;
            ALTER TABLE risk.assessments ALTER COLUMN level SET NOT NULL,
                ADD CONSTRAINT assessments_level_check CHECK (level IN ('general', 'serious', 'major'));
            ALTER TABLE risk.assessment_history ALTER COLUMN level SET NOT NULL,
                ADD CONSTRAINT assessment_history_level_check CHECK (level IN ('general', 'serious', 'major'));
            ALTER TABLE risk.warnings ALTER COLUMN level SET NOT NULL,
                ADD CONSTRAINT warnings_level_check CHECK (level IN ('general', 'serious', 'major'));
            """),
        Migration(version: 8, name: "the social-risk topic database and cluster warnings", sql: """
            -- One row per case: where and when it happened, what kind, where the report came
            -- from. Sized for a city (~100,000 incidents a year): the cluster rules count a
            -- category in a village or township over days, one range scan of incidents_place;
            -- a place's history over time is one range scan of incidents_village.
            CREATE TABLE risk.incidents (
                case_id      uuid PRIMARY KEY,
                village_code text COLLATE "C" NOT NULL,
                category     integer NOT NULL,
                source       integer NOT NULL,
                opened_at    timestamptz NOT NULL,
                closed       boolean NOT NULL DEFAULT false,
                recorded_at  timestamptz NOT NULL
            );
            CREATE INDEX incidents_place ON risk.incidents (category, village_code, opened_at);
            CREATE INDEX incidents_village ON risk.incidents (village_code, opened_at);
            -- The parties as dispute-service hashed them (HMAC-SHA256 under a key risk-service
            -- never holds): the same person across villages, sources and time, without a name.
            CREATE TABLE risk.party_keys (
                key     text COLLATE "C" NOT NULL,
                case_id uuid NOT NULL REFERENCES risk.incidents (case_id),
                PRIMARY KEY (key, case_id)
            );
            CREATE INDEX party_keys_case ON risk.party_keys (case_id);
            -- A cluster warning is a warning about many cases: no case of its own, a cluster
            -- key (the rule and the place or person) with at most one open at a time, the rules'
            -- version that raised it, and its one push waiting out the group wait. A case's
            -- warning records the models' version and the cluster holding back its pushes.
            ALTER TABLE risk.warnings ALTER COLUMN case_id DROP NOT NULL,
                ADD COLUMN cluster_key text COLLATE "C",
                ADD COLUMN rule text,
                ADD COLUMN rules_version text,
                ADD COLUMN held_by uuid REFERENCES risk.warnings (id),
                ADD COLUMN push_due_at timestamptz,
                ADD CONSTRAINT warnings_case_or_cluster CHECK ((case_id IS NULL) <> (cluster_key IS NULL));
            CREATE UNIQUE INDEX warnings_one_open_per_cluster ON risk.warnings (cluster_key) WHERE status <> 'closed' AND cluster_key IS NOT NULL;
            CREATE INDEX warnings_push_due ON risk.warnings (push_due_at) WHERE push_due_at IS NOT NULL;
            CREATE TABLE risk.cluster_members (
                warning_id uuid NOT NULL REFERENCES risk.warnings (id),
                case_id    uuid NOT NULL REFERENCES risk.incidents (case_id),
                joined_at  timestamptz NOT NULL,
                PRIMARY KEY (warning_id, case_id)
            );
            CREATE INDEX cluster_members_case ON risk.cluster_members (case_id);
            """),
        Migration(version: 9, name: "open topics", sql: """
            -- A matter a centre follows across cases (land requisition in 白衣镇), and the cases
            -- its staff attached to it; a centre's topics are one range scan of topics_centre.
            CREATE TABLE risk.topics (
                id          uuid PRIMARY KEY,
                centre_code text COLLATE "C" NOT NULL,
                title       text NOT NULL,
                category    integer NOT NULL DEFAULT 0,
                opened_at   timestamptz NOT NULL,
                opened_by   text NOT NULL,
                closed_at   timestamptz,
                outcome     text
            );
            CREATE INDEX topics_centre ON risk.topics (centre_code, opened_at);
            CREATE TABLE risk.topic_cases (
                topic_id    uuid NOT NULL REFERENCES risk.topics (id),
                case_id     uuid NOT NULL REFERENCES risk.incidents (case_id),
                attached_at timestamptz NOT NULL,
                attached_by text NOT NULL,
                PRIMARY KEY (topic_id, case_id)
            );
            CREATE INDEX topic_cases_case ON risk.topic_cases (case_id);
            """),
        Migration(version: 10, name: "warnings imported from an older system", sql: """
            -- Who imported a warning and when (risk-service import warnings); NULL for warnings
            -- raised in Pingan. Its id is named by its legacy id, so a re-import finds it.
            ALTER TABLE risk.warnings ADD COLUMN imported_by text, ADD COLUMN imported_at timestamptz;
            """),
        Migration(version: 11, name: "a cluster pushed again when it has doubled", sql: """
            -- How many cases a cluster warning held when it was last pushed (NULL before its
            -- first push): once twice as many have joined, it is pushed again (warning.grew).
            -- A cluster pushed before this migration counts from the cases it holds now.
            SET LOCAL lock_timeout = '5s';
            ALTER TABLE risk.warnings ADD COLUMN pushed_count integer;
            UPDATE risk.warnings SET pushed_count = count
            WHERE cluster_key IS NOT NULL AND push_due_at IS NULL AND status <> 'closed';
            """),
    ]

    static var migrator: Migrator { Migrator(schema: schema, migrations: all) }
}
