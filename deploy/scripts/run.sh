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
set -a; source "$secrets"; set +a
export DATABASE_URL="postgresql://pingan@127.0.0.1:$PG_PORT/pingan" LOG_LEVEL=${LOG_LEVEL:-notice}
# The demo webhook receiver listens on loopback, which notify-service refuses unless allowed.
export WEBHOOK_ALLOWED_HOSTS=127.0.0.1

pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT INT TERM
logs="$PINGAN_STATE/logs"; mkdir -p "$logs"
python3 deploy/scripts/webhook-receiver.py "$RECEIVER_PORT" >>"$logs/webhooks.log" 2>&1 & pids+=($!)
mesh_start "$bin" "$logs" "$GATEWAY_PORT"
gw="http://127.0.0.1:$GATEWAY_PORT"
if [ ! -f "$PINGAN_STATE/demo-seeded" ]; then
  log "loading the demo data set (generated villages are labelled （生成）)"
  demo_seed "$bin" "$gw" "http://127.0.0.1:$RECEIVER_PORT/hook" "$DEMO_PASSWORD" "$WEBHOOK_SECRET" > "$PINGAN_STATE/demo-seeded"
fi
source "$PINGAN_STATE/demo-seeded"

cat <<TXT

Pingan is running (logs in $logs).
  gateway          $gw              the only door for people and department systems
  grid-service     http://127.0.0.1:$((GATEWAY_PORT + 1))
  dispute-service  http://127.0.0.1:$((GATEWAY_PORT + 2))
  risk-service     http://127.0.0.1:$((GATEWAY_PORT + 3))
  index-service    http://127.0.0.1:$((GATEWAY_PORT + 4))
  notify-service   http://127.0.0.1:$((GATEWAY_PORT + 5))
  demo webhooks    http://127.0.0.1:$RECEIVER_PORT/hook  -> $logs/webhooks.log
  PostgreSQL       $DATABASE_URL

Demo users (password: $DEMO_PASSWORD): admin (常德市), lixian (澧县), xiaodukou (小渡口镇).
Demo grid in 小渡口社区 430723102201 (generated): GRID_ID=$GRID_ID MEMBER_ID=$MEMBER_ID

Ctrl-C stops the services.
TXT
wait
