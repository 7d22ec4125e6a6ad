-- One PostgreSQL login role per service, so a service can reach only the schema it owns.
--
-- Each service creates its own schema at start (CREATE SCHEMA IF NOT EXISTS <schema>) and so
-- owns it and everything in it; the other roles get no USAGE on it and cannot read it.
--
--   role            schema    password variable
--   pingan_gateway  gateway   GATEWAY_DB_PASSWORD
--   pingan_grid     grid      GRID_DB_PASSWORD
--   pingan_dispute  dispute   DISPUTE_DB_PASSWORD
--   pingan_risk     risk      RISK_DB_PASSWORD
--   pingan_index    index     INDEX_DB_PASSWORD
--   pingan_notify   notify    NOTIFY_DB_PASSWORD
--
-- Run it as a superuser (or the database owner with CREATEROLE), connected to the Pingan
-- database, with the six password variables in the environment (psql 15+ for \getenv):
--   GRID_DB_PASSWORD=... (all six) psql -v ON_ERROR_STOP=1 -d pingan -f deploy/postgres/roles.sql
-- docker-compose.yml mounts it into /docker-entrypoint-initdb.d (first start of an empty
-- volume only); deploy/scripts/run.sh runs it on every start. It is idempotent: it creates
-- missing roles, resets their passwords and grants, and hands a schema that already exists
-- (for example from the days when every service shared one role) to the role that owns it.
-- Keep the passwords URL-safe (openssl rand -hex 32): they go into each DATABASE_URL.

\set ON_ERROR_STOP on

\getenv gateway_password GATEWAY_DB_PASSWORD
\getenv grid_password GRID_DB_PASSWORD
\getenv dispute_password DISPUTE_DB_PASSWORD
\getenv risk_password RISK_DB_PASSWORD
\getenv index_password INDEX_DB_PASSWORD
\getenv notify_password NOTIFY_DB_PASSWORD
\if :{?gateway_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'GATEWAY_DB_PASSWORD is not set'; END $$;
\endif
\if :{?grid_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'GRID_DB_PASSWORD is not set'; END $$;
\endif
\if :{?dispute_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'DISPUTE_DB_PASSWORD is not set'; END $$;
\endif
\if :{?risk_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'RISK_DB_PASSWORD is not set'; END $$;
\endif
\if :{?index_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'INDEX_DB_PASSWORD is not set'; END $$;
\endif
\if :{?notify_password}
\else
  DO $$ BEGIN RAISE EXCEPTION 'NOTIFY_DB_PASSWORD is not set'; END $$;
\endif

-- Roles: log in, nothing else (no superuser, no CREATEDB, no CREATEROLE, no replication).
SELECT format('CREATE ROLE %I LOGIN', 'pingan_' || s)
FROM unnest(ARRAY['gateway', 'grid', 'dispute', 'risk', 'index', 'notify']) AS s
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pingan_' || s) \gexec

ALTER ROLE pingan_gateway WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'gateway_password';
ALTER ROLE pingan_grid    WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'grid_password';
ALTER ROLE pingan_dispute WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'dispute_password';
ALTER ROLE pingan_risk    WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'risk_password';
ALTER ROLE pingan_index   WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'index_password';
ALTER ROLE pingan_notify  WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'notify_password';

-- The database: only the six roles (and superusers) may connect; each may create schemas,
-- which is how it creates the one it owns, and temporary tables, where the bulk imports stage
-- a batch (private to the session, so no other role sees them). Nobody may create objects in
-- schema public.
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database()) \gexec
SELECT format('GRANT CONNECT, CREATE, TEMPORARY ON DATABASE %I TO %I', current_database(), 'pingan_' || s)
FROM unnest(ARRAY['gateway', 'grid', 'dispute', 'risk', 'index', 'notify']) AS s \gexec
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- A schema created before the roles existed belongs to whoever created it: hand it, and every
-- table, view and free-standing sequence in it, to its service's role. (Indexes and the
-- sequences behind identity columns follow their tables.)
DO $$
DECLARE
    s text;
    owner_role text;
    rel record;
BEGIN
    FOREACH s IN ARRAY ARRAY['gateway', 'grid', 'dispute', 'risk', 'index', 'notify'] LOOP
        owner_role := 'pingan_' || s;
        CONTINUE WHEN NOT EXISTS (SELECT FROM pg_namespace WHERE nspname = s);
        IF (SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = s) <> owner_role THEN
            EXECUTE format('ALTER SCHEMA %I OWNER TO %I', s, owner_role);
            RAISE NOTICE 'schema % now belongs to %', s, owner_role;
        END IF;
        FOR rel IN
            SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = s AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
              AND pg_get_userbyid(c.relowner) <> owner_role
              AND NOT EXISTS (  -- identity and serial sequences move with their table
                  SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                  AND d.deptype IN ('a', 'i') AND c.relkind = 'S')
        LOOP
            EXECUTE format('ALTER %s %I.%I OWNER TO %I',
                CASE rel.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                    WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                s, rel.relname, owner_role);
        END LOOP;
    END LOOP;
END
$$;
