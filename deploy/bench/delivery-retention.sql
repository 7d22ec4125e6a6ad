-- One batch of notify-service's DeliveryRetention on a year of pushes, inside a transaction that
-- is rolled back. notify-service's tables are not filled by the generator (pushes follow from
-- events, not from an import), so the year is written here: :deliveries deliveries (default
-- 1,000,000: about ten pushes per case of the city's year, each to the subscriptions of its
-- centre and the levels above) spread over the year, all delivered but one in a thousand, with
-- one attempt each and a second for one in five, and a resident's text per :deliveries / 10.
-- Then notify migration 13's indexes, the job's choice of a batch, and its deletes for the
-- 1,000 oldest, with the ids bound as one array, as the service binds them; the cutoff
-- leaves the last half-year.
--   psql -X -v deliveries=1000000 -f deploy/bench/delivery-retention.sql "$DATABASE_URL"
\set ON_ERROR_STOP on
\if :{?deliveries}
\else
\set deliveries 1000000
\endif
\timing on
BEGIN;
SET LOCAL lock_timeout = '5s';
INSERT INTO notify.subscriptions (id, centre_code, url, secret)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(n), 12, '0'))::uuid, '4307' || lpad(n::text, 8, '0'),
       'https://hooks.example.gov.cn/' || n, 'a-shared-secret-of-24-b'
FROM generate_series(1, 200) AS n;
INSERT INTO notify.deliveries (id, subject_id, subscription_id, centre_code, payload, event, created_at, delivered_at, next_attempt_at, attempts)
SELECT gen_random_uuid(), gen_random_uuid(), ('00000000-0000-4000-8000-' || lpad(to_hex(1 + n % 200), 12, '0'))::uuid,
       '4307' || lpad((1 + n % 200)::text, 8, '0'), repeat('x', 600), 'case.escalated', at,
       CASE WHEN n % 1000 = 0 THEN NULL ELSE at + interval '2 seconds' END, at, 1 + (n % 5 = 0)::int
FROM generate_series(1, :deliveries) AS n, LATERAL (SELECT now() - interval '365 days' * n / :deliveries AS at) t;
INSERT INTO notify.attempts (delivery_id, at, status, duration_ms)
SELECT id, created_at, 200, 40 FROM notify.deliveries
UNION ALL SELECT id, created_at, 503, 40 FROM notify.deliveries WHERE attempts = 2;
INSERT INTO notify.resident_texts (event_id, kind, phone_masked, status, sent_at)
SELECT gen_random_uuid(), 'one_time_code', '139****1111', 200, now() - interval '365 days' * n / (:deliveries / 10)
FROM generate_series(1, :deliveries / 10) AS n;
-- notify migration 13
CREATE INDEX IF NOT EXISTS deliveries_finished ON notify.deliveries (created_at)
    WHERE delivered_at IS NOT NULL OR next_attempt_at = 'infinity';
CREATE INDEX IF NOT EXISTS resident_texts_sent ON notify.resident_texts (sent_at);
ANALYZE notify.deliveries, notify.attempts, notify.resident_texts;
SELECT count(*) AS deliveries, count(*) FILTER (WHERE created_at < now() - interval '180 days' AND delivered_at IS NOT NULL) AS due
FROM notify.deliveries;
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT id FROM notify.deliveries
    WHERE (delivered_at IS NOT NULL OR next_attempt_at = 'infinity') AND created_at < now() - interval '180 days'
    ORDER BY created_at LIMIT 1000 FOR UPDATE SKIP LOCKED;
\pset tuples_only on
\o /dev/null
SELECT quote_literal(array_agg(id)::text) || '::uuid[]' AS ids FROM (
    SELECT id FROM notify.deliveries
    WHERE (delivered_at IS NOT NULL OR next_attempt_at = 'infinity') AND created_at < now() - interval '180 days'
    ORDER BY created_at LIMIT 1000
) due \gset
\o
\pset tuples_only off
DELETE FROM notify.attempts WHERE delivery_id = ANY(:ids);
DELETE FROM notify.deliveries WHERE id = ANY(:ids);
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) DELETE FROM notify.resident_texts WHERE event_id = ANY(ARRAY(
    SELECT event_id FROM notify.resident_texts WHERE sent_at < now() - interval '180 days'
    ORDER BY sent_at LIMIT 1000 FOR UPDATE SKIP LOCKED
));
ROLLBACK;
