# Shared helpers for the service scripts (sourced, not run): build the binary, pick a free
# loopback port, start `siamese serve` and wait until it answers, stop it.
# SCRATCH_PATH picks the SwiftPM build folder (default .build); SIAMESE_BIN skips the build.

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

build_siamese() {
  if [[ -n "${SIAMESE_BIN:-}" ]]; then return; fi
  local scratch="${SCRATCH_PATH:-$repo/.build}"
  echo "building siamese (release, $scratch)…" >&2
  (cd "$repo" && swift build -c release --scratch-path "$scratch" --product siamese >&2)
  SIAMESE_BIN="$(cd "$repo" && swift build -c release --scratch-path "$scratch" --show-bin-path)/siamese"
  export SIAMESE_BIN
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_server LOG ARGS… : starts the server in the background (pid in $server_pid) and waits
# up to 180 s for /healthz (the first start without --model trains the demo model: about ten
# seconds on an idle machine; set SIAMESE_DEMO_CACHE to share one trained model between runs).
start_server() {
  local log="$1"; shift
  "$SIAMESE_BIN" serve "$@" >>"$log" 2>&1 &
  server_pid=$!
  local port=""
  local prev=""
  for arg in "$@"; do [[ "$prev" == "--port" ]] && port="$arg"; prev="$arg"; done
  for _ in $(seq 1 1800); do
    if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then echo "server exited; log:" >&2; tail -20 "$log" >&2; return 1; fi
    sleep 0.1
  done
  echo "server did not become healthy in 180 s; log:" >&2; tail -20 "$log" >&2
  return 1
}

# demo_examples BASE : the demo model's example pairs from /v1/models as JSON (empty list otherwise).
demo_examples() {
  curl -sf "$1/v1/models" | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["models"][0].get("examples", [])))'
}

# SIGTERM, then up to 90 s for the server to finish in-flight requests and exit (it bounds its own
# shutdown well within that); one still running is killed and the call fails, naming it, so that
# a hung shutdown fails the script instead of hanging the test command.
stop_server() {
  if [[ -n "${server_pid:-}" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 900; i++)); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$server_pid" 2>/dev/null; then
      echo "service_common: serve (pid $server_pid) still running 90 s after SIGTERM: killed" >&2
      kill -KILL "$server_pid" 2>/dev/null || true
      wait "$server_pid" 2>/dev/null || true
      server_pid=""
      return 1
    fi
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=""
}

busy_marker() {
  # The figures are distorted when other work loads the machine: say so next to them.
  local load; load=$(cut -d' ' -f1 /proc/loadavg)
  local cores; cores=$(nproc)
  if awk -v l="$load" -v c="$cores" 'BEGIN { exit !(l > 0.5 * c) }'; then echo "[busy machine: load $load on $cores cores]"; fi
}
