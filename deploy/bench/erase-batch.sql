-- One batch of PartyDataRetention on a loaded year, inside a transaction that is rolled back:
-- dispute migration 18 (column and index), the job's selection by the index, then each of
-- PartyDataRetention.erasing's statements for the 500 cases that ended first, with the ids
-- bound as one array literal, as the service binds them. Every case that ended counts as due
-- (the cutoff is now()), as on the first run after a history older than the term is imported.
--   psql -X -f deploy/bench/erase-batch.sql "$DATABASE_URL"
\timing on
BEGIN;
SET LOCAL lock_timeout = '5s';
ALTER TABLE dispute.cases ADD COLUMN IF NOT EXISTS personal_data_erased_at timestamptz;
CREATE INDEX IF NOT EXISTS cases_personal_data_kept ON dispute.cases ((coalesce(closed_at, resolved_at)))
    WHERE personal_data_erased_at IS NULL AND status IN ('resolved', 'closed');
ANALYZE dispute.cases;
SELECT count(*) AS ended_and_kept FROM dispute.cases WHERE personal_data_erased_at IS NULL AND status IN ('resolved', 'closed');
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT id FROM dispute.cases
    WHERE personal_data_erased_at IS NULL AND status IN ('resolved', 'closed') AND coalesce(closed_at, resolved_at) < now()
    ORDER BY coalesce(closed_at, resolved_at) LIMIT 500 FOR UPDATE SKIP LOCKED;
CREATE TEMP TABLE due AS SELECT id FROM dispute.cases
    WHERE personal_data_erased_at IS NULL AND status IN ('resolved', 'closed') AND coalesce(closed_at, resolved_at) < now()
    ORDER BY coalesce(closed_at, resolved_at) LIMIT 500;
\pset tuples_only on
\o /dev/null
SELECT quote_literal(array_agg(id)::text) || '::uuid[]' AS ids FROM due \gset
\o
\pset tuples_only off
UPDATE dispute.cases SET description = '', outcome = CASE WHEN outcome IS NULL THEN NULL ELSE '' END,
    parties = coalesce((SELECT jsonb_agg(jsonb_build_object('name', '', 'phone', '', 'minor', coalesce(p->'minor', 'false'::jsonb)) ORDER BY n)
                        FROM jsonb_array_elements(parties) WITH ORDINALITY AS e (p, n)), '[]'::jsonb),
    party_names = '{}', personal_data_erased_at = coalesce(personal_data_erased_at, now())
WHERE id = ANY(:ids);
UPDATE dispute.case_reports SET description = '' WHERE case_id = ANY(:ids) AND description <> '';
UPDATE dispute.timeline SET note = '' WHERE case_id = ANY(:ids) AND note <> '' AND kind <> 'personal_data_erased';
UPDATE dispute.rung_attempts SET participants = '{}', outcome_note = CASE WHEN outcome_note IS NULL THEN NULL ELSE '' END
    WHERE case_id = ANY(:ids) AND (participants <> '{}' OR outcome_note <> '');
UPDATE dispute.rung_skips SET reason = '' WHERE case_id = ANY(:ids) AND reason <> '';
UPDATE dispute.agreements SET terms = '', signatories = '{}' WHERE case_id = ANY(:ids) AND (terms <> '' OR signatories <> '{}');
UPDATE dispute.return_visits SET note = '' WHERE case_id = ANY(:ids) AND note <> '';
UPDATE dispute.summons SET feedback = '' WHERE case_id = ANY(:ids) AND feedback <> '';
UPDATE dispute.resident_requests SET phone = '', name = '', other_party = '', description = '', address = '',
    latitude = NULL, longitude = NULL, media_urls = '{}', erased_at = now() WHERE case_id = ANY(:ids) AND erased_at IS NULL;
INSERT INTO dispute.timeline (case_id, at, kind, note, actor)
    SELECT id, now(), 'personal_data_erased', 'erased', 'dispute-service' FROM due;
ROLLBACK;
