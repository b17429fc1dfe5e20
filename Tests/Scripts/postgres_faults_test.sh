#!/usr/bin/env bash
# The service on PostgreSQL under faults (issue 13), with writers streaming upserts throughout:
#  1. `siamese serve` killed with SIGKILL at a random moment, then started again: no
#     acknowledged item is lost (as crash_test.sh checks for SQLite);
#  2. PostgreSQL stopped under the running service (scripts/postgres.sh pause) and started again
#     (resume): while it is down writes answer 503 `store_unavailable`, after it is back they
#     answer 200 again without restarting the service, and still no acknowledged item is lost.
# Needs the server of scripts/postgres.sh (started here when none runs, stopped on exit then);
# SIAMESE_NO_POSTGRES=1 skips it on purpose.
#
#   Tests/Scripts/postgres_faults_test.sh [--quick]
set -euo pipefail
source "$(dirname "$0")/service_common.sh"
cd "$repo"

if [[ "${SIAMESE_NO_POSTGRES:-}" == 1 ]]; then echo "postgres_faults_test: skipped (SIAMESE_NO_POSTGRES=1)"; exit 0; fi
max_ms=2500
[[ "${1:-}" == "--quick" ]] && max_ms=1200

build_siamese
work="$(mktemp -d)"
writers=""
started_pg=0
cleanup() {
  touch "$work/stop"
  [[ -z "$writers" ]] || { kill -TERM "$writers" 2>/dev/null || true; wait "$writers" 2>/dev/null || true; }
  stop_server
  # A paused server is started again (or stopped, when this script started it).
  if [[ $started_pg -eq 1 ]]; then scripts/postgres.sh stop || true; else scripts/postgres.sh resume >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

if ! scripts/postgres.sh url >/dev/null 2>&1; then started_pg=1; scripts/postgres.sh start >/dev/null; fi
url="$(scripts/postgres.sh fresh)"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/key"
export SIAMESE_DEMO_CACHE="${SIAMESE_DEMO_CACHE:-$work/demo}"
port="$(free_port)"
start_server "$work/serve.log" --host 127.0.0.1 --port "$port" --store "$url" --api-key-file "$work/key"

# Writers: upsert small batches until $work/stop exists; an id goes to acked.txt only after a 200;
# every answer's kind goes to events.txt ("200", "503 store_unavailable", "conn" when the
# service is not there, "other …"). Transport errors are retried: the service comes back.
python3 - "$port" "$work/key" "$work" <<'PY' &
import json, os, random, sys, threading, time, urllib.request, urllib.error
port, keyfile, work = sys.argv[1], sys.argv[2], sys.argv[3]
key = open(keyfile).read().strip()
dim = None
lock = threading.Lock()
acked, events = open(f"{work}/acked.txt", "a"), open(f"{work}/events.txt", "a")
def record(kind, ids=()):
    with lock:
        if ids: acked.write("\n".join(ids) + "\n"); acked.flush()
        events.write(kind + "\n"); events.flush()
def writer(w):
    global dim
    n = 0
    while not os.path.exists(f"{work}/stop"):
        try:
            if dim is None:
                dim = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=30))["models"][0]["input_dimension"]
            ids = [f"w{w}-{n}-{j}" for j in range(random.randint(1, 4))]
            n += 1
            body = {"items": [{"id": i, "vector": [random.uniform(-1, 1) for _ in range(dim)], "metadata": {"w": w}} for i in ids]}
            req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/items", data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
            with urllib.request.urlopen(req, timeout=60) as r:
                record(str(r.status), ids if r.status == 200 else ())
        except urllib.error.HTTPError as e:
            try: code = json.loads(e.read() or b"{}").get("error", {}).get("code", "")
            except Exception: code = ""
            record(f"{e.code} {code}".strip() if e.code == 503 else f"other {e.code} {code}")
            time.sleep(0.05)
        except Exception:
            record("conn")
            time.sleep(0.05)
threads = [threading.Thread(target=writer, args=(w,)) for w in range(3)]
for t in threads: t.start()
for t in threads: t.join()
PY
writers=$!

count() { grep -c -x -- "$1" "$work/events.txt" 2>/dev/null || true; }
# wait_for WHAT SECONDS CONDITION…: polls the condition every 0.1 s, failing after SECONDS.
wait_for() {
  local what="$1" limit="$2"; shift 2
  local tries=$(( limit * 10 ))
  for _ in $(seq 1 "$tries"); do "$@" && return 0; sleep 0.1; done
  echo "FAIL: $what within $limit s; events: $(sort "$work/events.txt" | uniq -c | tr '\n' ' ')" >&2
  tail -20 "$work/serve.log" >&2
  exit 1
}
more_200_than() { [[ "$(count 200)" -gt "$1" ]]; }

# 1. SIGKILL the service mid-stream, start it again.
wait_for "a first acknowledged write" 120 more_200_than 0
sleep "$(awk -v m="$(( 300 + RANDOM % max_ms ))" 'BEGIN { print m / 1000 }')"
kill -9 "$server_pid"
wait "$server_pid" 2>/dev/null || true
server_pid=""
echo "serve killed with SIGKILL after $(count 200) acknowledged writes"
start_server "$work/serve.log" --host 127.0.0.1 --port "$port" --store "$url" --api-key-file "$work/key"
before=$(count 200)
wait_for "writes acknowledged again after the restart" 120 more_200_than "$before"

# 2. PostgreSQL goes away under the running service, then comes back.
scripts/postgres.sh pause
down_503=$(count "503 store_unavailable")
more_503() { [[ "$(count "503 store_unavailable")" -gt "$down_503" ]]; }
wait_for "a 503 store_unavailable while PostgreSQL is down" 120 more_503
scripts/postgres.sh resume >/dev/null
before=$(count 200)
wait_for "writes acknowledged again after PostgreSQL came back" 120 more_200_than "$before"
touch "$work/stop"
wait "$writers" 2>/dev/null || true
writers=""
others="$(grep -c '^other' "$work/events.txt" || true)"
[[ "$others" -eq 0 ]] || { echo "FAIL: unexpected answers: $(grep '^other' "$work/events.txt" | sort | uniq -c | tr '\n' ' ')" >&2; exit 1; }

# Every acknowledged id is in the store, each once.
python3 - "$port" "$work/acked.txt" <<'PY'
import json, sys, urllib.request, urllib.error
port, acked = sys.argv[1], sys.argv[2]
ids = [l.strip() for l in open(acked) if l.strip()]
missing = []
for i in ids:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/items/{i}", timeout=30).read()
    except urllib.error.HTTPError as e:
        if e.code == 404: missing.append(i)
        else: raise
held = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=30))["store"]["items"]
print(f"acknowledged: {len(ids)} ({len(set(ids))} distinct); missing: {len(missing)}; the store holds {held}")
if not ids or len(set(ids)) != len(ids): print("FAIL: nothing acknowledged, or an id acknowledged twice"); sys.exit(1)
if missing: print("FAIL: lost", missing[:10]); sys.exit(1)
if held < len(ids): print("FAIL: the store holds fewer items than were acknowledged"); sys.exit(1)
PY
echo "postgres_faults_test: PASS ($(sort "$work/events.txt" | uniq -c | tr '\n' ' '))"
