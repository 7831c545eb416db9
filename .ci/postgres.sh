# Sourced by .ci/run: start a throw-away PostgreSQL cluster (as the postgres user, trust auth, 127.0.0.1 only),
# export FRUGAL_TEST_PG_URL for test/search-pg.test.ts, and stop and remove it when the script exits.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
pg_dir=$(mktemp -d /tmp/frugal-ci-pg.XXXXXX)
pg_port=${FRUGAL_CI_PG_PORT:-54320}
chown postgres "$pg_dir"
stop_pg() {
  su postgres -c "$pg_bin/pg_ctl -D $pg_dir/data -m immediate stop" >/dev/null 2>&1 || true
  rm -rf "$pg_dir"
}
trap stop_pg EXIT
su postgres -c "$pg_bin/initdb -D $pg_dir/data -A trust -U postgres" >"$pg_dir/initdb.log"
su postgres -c "$pg_bin/pg_ctl -D $pg_dir/data -l $pg_dir/log -w -o '-k $pg_dir -h 127.0.0.1 -p $pg_port' start"
export FRUGAL_TEST_PG_URL="postgresql://postgres@127.0.0.1:$pg_port/postgres"
