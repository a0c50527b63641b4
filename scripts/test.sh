#!/usr/bin/env bash
# The whole test suite: starts a throwaway PostgreSQL on loopback (for the store contract suite
# and PostgreSQL-backed tests), then runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

pg_bin=""
for d in /usr/lib/postgresql/*/bin /usr/local/bin /usr/bin; do
  if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then pg_bin="$d"; break; fi
done
if [ -z "$pg_bin" ]; then
  echo "PostgreSQL binaries (initdb, pg_ctl) not found: install the 'postgresql' package" >&2
  exit 1
fi

pgdir=$(mktemp -d /tmp/stratus-pg.XXXXXX)
port=$(( 20000 + RANDOM % 20000 ))
# initdb and pg_ctl refuse to run as root: run them as the owner of a fresh directory.
run_pg() {
  if [ "$(id -u)" = 0 ]; then
    chown -R nobody "$pgdir"
    su -s /bin/sh nobody -c "$*"
  else
    sh -c "$*"
  fi
}
cleanup() {
  run_pg "'$pg_bin/pg_ctl' -D '$pgdir/data' -m immediate stop >/dev/null 2>&1" || true
  rm -rf "$pgdir"
}
trap cleanup EXIT
run_pg "'$pg_bin/initdb' -D '$pgdir/data' -U stratus --auth=trust -E UTF8 >'$pgdir/initdb.log' 2>&1"
run_pg "'$pg_bin/pg_ctl' -D '$pgdir/data' -o \"-p $port -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\" -l '$pgdir/pg.log' -w start >/dev/null"
export STRATUS_TEST_PG_URL="postgres://stratus@127.0.0.1:$port/postgres"
export STRATUS_TEST_PG_CTL="$pg_bin/pg_ctl"
export STRATUS_TEST_PG_DATA="$pgdir/data"
echo "PostgreSQL for tests at $STRATUS_TEST_PG_URL"

if command -v cargo-nextest >/dev/null 2>&1 && [ "${STRATUS_USE_NEXTEST:-1}" = 1 ]; then
  # Doc tests first, so that the suite's own summary is the run's closing line.
  cargo test --workspace --doc
  cargo nextest run --workspace --no-fail-fast "$@"
else
  cargo test --workspace --no-fail-fast "$@"
fi
