# Sourced by dev.sh: a private PostgreSQL server on loopback for the tests, in a temporary
# folder, stopped and removed on exit. Debian's package brings the binaries; the cluster it
# may have made itself is not touched. The server refuses to run as root, so as root it runs
# as the package's postgres user.

start_test_postgres() {
    local bin
    bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ ! -x "$bin/initdb" ]; then
        echo "no PostgreSQL server binaries under /usr/lib/postgresql (Debian package postgresql)" >&2
        return 1
    fi
    PG_TEST_BIN=$bin
    PG_TEST_DIR=$(mktemp -d /tmp/overparam-pg.XXXXXX)
    PG_TEST_AS=()
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres "$PG_TEST_DIR"
        PG_TEST_AS=(runuser -u postgres --)
    fi
    "${PG_TEST_AS[@]}" "$bin/initdb" -D "$PG_TEST_DIR/data" -U postgres -A trust -E UTF8 >"$PG_TEST_DIR/initdb.log" 2>&1 || {
        cat "$PG_TEST_DIR/initdb.log" >&2; return 1; }
    local port
    for port in $(seq 54329 54349); do
        if "${PG_TEST_AS[@]}" "$bin/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/server.log" -w -t 30 \
            -o "-p $port -k $PG_TEST_DIR -c listen_addresses=127.0.0.1" start >/dev/null 2>&1; then
            export OVERPARAM_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
            echo "test PostgreSQL server on 127.0.0.1:$port ($PG_TEST_DIR)"
            trap stop_test_postgres EXIT
            return 0
        fi
    done
    cat "$PG_TEST_DIR/server.log" >&2
    return 1
}

stop_test_postgres() {
    [ -n "${PG_TEST_DIR:-}" ] || return 0
    "${PG_TEST_AS[@]}" "$PG_TEST_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_TEST_DIR"
    PG_TEST_DIR=
}
