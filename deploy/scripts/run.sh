#!/usr/bin/env bash
# Starts Pingan on this machine: a private PostgreSQL cluster, the six executables, the real
# divisions of Changde, a small demo data set (generated villages, users, a grid) and a demo
# webhook receiver. Ctrl-C stops the services; `deploy/scripts/run.sh stop` stops PostgreSQL.
source "$(dirname "$0")/lib.sh"

PG_PORT=${PINGAN_PG_PORT:-55432}
# The gateway listens here and the five services on the next five ports.
GATEWAY_PORT=${GATEWAY_PORT:-8080}
RECEIVER_PORT=${RECEIVER_PORT:-8090}
if [ "${1:-}" = stop ]; then stop_cluster run; exit 0; fi

ensure_system_packages
start_cluster run "$PG_PORT"
cd "$PINGAN_ROOT"
log "building (release; the first build takes several minutes)"
release_build
bin=$(release_build --show-bin-path)

# Secrets live beside the cluster, so tokens stay valid across restarts of the services.
secrets="$PINGAN_STATE/secrets.env"
if [ ! -f "$secrets" ]; then
  (umask 077; printf 'MESH_SECRET=%s\nTOKEN_SECRET=%s\nWEBHOOK_SECRET=%s\nDEMO_PASSWORD=demo-%s\n' \
    "$(random_hex 32)" "$(random_hex 32)" "$(random_hex 16)" "$(random_hex 6)" > "$secrets")
fi
# One database role per service, as in production (deploy/postgres/roles.sql): each owns its
# schema and cannot read the others'. Their passwords live in the same file.
services=(gateway grid dispute risk index notify)
for s in "${services[@]}"; do
  grep -q "^${s^^}_DB_PASSWORD=" "$secrets" || printf '%s_DB_PASSWORD=%s\n' "${s^^}" "$(random_hex 24)" >> "$secrets"
done
set -a; source "$secrets"; set +a
# The services need MESH_SECRET (and the gateway TOKEN_SECRET); the demo's own secrets stay here.
export -n WEBHOOK_SECRET DEMO_PASSWORD
admin_url=$(cluster_url run "$PG_PORT")
role_env=()
for s in "${services[@]}"; do
  password_var=${s^^}_DB_PASSWORD
  export -n "$password_var"  # each service gets its own password, in its own DATABASE_URL only
  role_env+=("$password_var=${!password_var}")
  printf -v "${s^^}_DATABASE_URL" 'postgresql://pingan_%s:%s@127.0.0.1:%s/pingan' "$s" "${!password_var}" "$PG_PORT"
done
log "database roles pingan_{$(IFS=,; echo "${services[*]}")}: one per service"
(export "${role_env[@]}"; "$(pg_bin)/psql" "$admin_url" -q -v ON_ERROR_STOP=1 -f "$PINGAN_ROOT/deploy/postgres/roles.sql")
export LOG_LEVEL=${LOG_LEVEL:-notice}
# The demo webhook receiver listens on loopback, which notify-service refuses unless allowed:
# its one port only (host:port), so a subscription cannot reach the services beside it.
export WEBHOOK_ALLOWED_HOSTS=127.0.0.1:$RECEIVER_PORT
# Residents' texts (sign-in codes, rating links) go to the same demo receiver, which prints them.
export RESIDENT_SMS_URL=http://127.0.0.1:$RECEIVER_PORT/sms RESIDENT_URL=http://127.0.0.1:$GATEWAY_PORT/resident

pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT INT TERM
logs="$PINGAN_STATE/logs"; mkdir -p "$logs"
WEBHOOK_SECRET=$WEBHOOK_SECRET python3 deploy/scripts/webhook-receiver.py "$RECEIVER_PORT" >>"$logs/webhooks.log" 2>&1 & pids+=($!)
mesh_start "$bin" "$logs" "$GATEWAY_PORT"
gw="http://127.0.0.1:$GATEWAY_PORT"
if [ ! -f "$PINGAN_STATE/demo-seeded" ]; then
  log "loading the demo data set (generated villages are labelled （生成）)"
  demo_seed "$bin" "$gw" "http://127.0.0.1:$RECEIVER_PORT/hook" "$DEMO_PASSWORD" "$WEBHOOK_SECRET" > "$PINGAN_STATE/demo-seeded.new"
  log "loading a generated year of 临澧县 through the import commands, and its index month by month (about a minute)"
  admin=$(rpc "$gw" pingan.gateway.v1.AuthService/Login "{\"username\":\"admin\",\"password\":\"$DEMO_PASSWORD\"}" | json_field "['token']")
  demo_history "$bin" "$gw" "$admin" "$PINGAN_STATE/demo-year"
  mv "$PINGAN_STATE/demo-seeded.new" "$PINGAN_STATE/demo-seeded"
fi
source "$PINGAN_STATE/demo-seeded"

cat <<TXT

Pingan is running (logs in $logs).
  gateway          $gw              the only door for people and department systems (Connect, gRPC-Web)
  gateway, gRPC    127.0.0.1:$((GATEWAY_PORT + 1000))           cleartext HTTP/2 with prior knowledge
  grid-service     http://127.0.0.1:$((GATEWAY_PORT + 1))
  dispute-service  http://127.0.0.1:$((GATEWAY_PORT + 2))
  risk-service     http://127.0.0.1:$((GATEWAY_PORT + 3))
  index-service    http://127.0.0.1:$((GATEWAY_PORT + 4))
  notify-service   http://127.0.0.1:$((GATEWAY_PORT + 5))
  demo webhooks    http://127.0.0.1:$RECEIVER_PORT/hook  -> $logs/webhooks.log (residents' texts too)
  resident pages   $gw/resident         file and follow a dispute, signed in by a code texted to the phone
  PostgreSQL       postgresql://pingan@127.0.0.1:$PG_PORT/pingan  (superuser, password in $PINGAN_STATE/run.password; each service logs in as its own role pingan_<schema>)

Demo users (password: $DEMO_PASSWORD): admin (常德市), lixian (澧县), xiaodukou (小渡口镇),
linli (临澧县: a generated year of cases and screening, its index month by month).
Demo grid in 小渡口社区 430723102201 (generated): GRID_ID=$GRID_ID MEMBER_ID=$MEMBER_ID

Ctrl-C stops the services.
TXT
wait
