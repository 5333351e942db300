#!/usr/bin/env bash
# Start a throw-away PostgreSQL 15 on 127.0.0.1 for the tests; prints the database URL.
# Usage: bash .ci/pg.sh [DATA_DIR] [PORT]
set -euo pipefail
DATA=${1:-/tmp/casework-pg}
PORT=${2:-5433}
BIN=/usr/lib/postgresql/15/bin
RUN_AS=postgres
if ! id "$RUN_AS" >/dev/null 2>&1; then
  useradd --system --home /var/lib/postgresql --shell /bin/bash "$RUN_AS"
fi
if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
  : # a server already answers on this port (a developer's earlier run): use it
elif [[ ! -f "$DATA/PG_VERSION" ]]; then
  mkdir -p "$DATA" && chown "$RUN_AS" "$DATA"
  su "$RUN_AS" -c "$BIN/initdb -D '$DATA' -A trust -U postgres --encoding=UTF8 --locale=C.UTF-8" >/dev/null
fi
if ! "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" && ! su "$RUN_AS" -c "$BIN/pg_ctl -D '$DATA' status" >/dev/null 2>&1; then
  su "$RUN_AS" -c "$BIN/pg_ctl -D '$DATA' -l '$DATA/server.log' -w \
    -o \"-p $PORT -c listen_addresses=127.0.0.1 -k /tmp -c max_connections=200 -c fsync=off\" start" >/dev/null
fi
psql() { command psql -h 127.0.0.1 -p "$PORT" -U postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
if [[ -z "$(psql -c "SELECT 1 FROM pg_roles WHERE rolname='casework'")" ]]; then
  psql -c "CREATE ROLE casework LOGIN PASSWORD 'casework' CREATEDB"
fi
for db in casework_test casework_e2e; do
  if [[ -z "$(psql -c "SELECT 1 FROM pg_database WHERE datname='$db'")" ]]; then
    psql -c "CREATE DATABASE $db OWNER casework"
  fi
done
echo "postgresql+psycopg://casework:casework@127.0.0.1:$PORT/casework_test"
