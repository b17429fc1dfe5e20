#!/usr/bin/env bash
# Durability under kill -9: stream upserts from several writers, kill the server at a random
# moment, restart it on the same store, and check that every acknowledged item is there; then a
# SIGTERM must stop the server cleanly (exit 0, index saved). Runs on the demo model (trained on the
# first start unless SIAMESE_DEMO_CACHE holds it).
# Usage: Tests/Scripts/crash_test.sh [--quick]     (quick: 2 rounds of ~1 s; full: 6 rounds of up to 4 s)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/service_common.sh"

rounds=6; max_ms=4000
if [[ "${1:-}" == "--quick" ]]; then rounds=2; max_ms=1200; fi

build_siamese
work="$(mktemp -d)"
trap 'stop_server; rm -rf "$work"' EXIT
export XDG_CACHE_HOME="$work/cache"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/key"
port=$(free_port)
store="$work/store.sqlite"
acked="$work/acked.txt"
: >"$acked"

for round in $(seq 1 "$rounds"); do
  start_server "$work/server.log" --host 127.0.0.1 --port "$port" --store "$store" --api-key-file "$work/key"
  pid=$server_pid
  # Writers append an id to the acknowledged list only after a 200 answer.
  python3 - "$port" "$work/key" "$acked" "$round" <<'PY' &
import json, random, sys, threading, urllib.request
port, keyfile, acked, rnd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
key = open(keyfile).read().strip()
try:
    dim = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models"))["models"][0]["input_dimension"]
except Exception:
    sys.exit(0)  # killed before the writers started
lock = threading.Lock()
out = open(acked, "a")
def writer(w):
    n = 0
    while True:
        ids = [f"r{rnd}-w{w}-{n}-{j}" for j in range(random.randint(1, 4))]
        n += 1
        items = []
        for i in ids:
            v = [random.uniform(-1, 1) for _ in range(dim)]
            items.append({"id": i, "text": i, "vector": v, "metadata": {"round": int(rnd), "input": v}})
        body = {"items": items}
        req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/items", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                if r.status == 200:
                    with lock:
                        out.write("\n".join(ids) + "\n"); out.flush()
        except Exception:
            return  # the server is gone
threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
for t in threads: t.start()
for t in threads: t.join()
PY
  writers=$!
  sleep_ms=$(( 600 + RANDOM % max_ms ))
  sleep "$(awk -v m="$sleep_ms" 'BEGIN { print m / 1000 }')"
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  server_pid=""
  wait "$writers" 2>/dev/null || true
  echo "round $round: killed after ${sleep_ms} ms; $(wc -l <"$acked") items acknowledged so far"
done

# Restart and check every acknowledged id.
start_server "$work/server.log" --host 127.0.0.1 --port "$port" --store "$store" --api-key-file "$work/key"
python3 - "$port" "$acked" <<'PY'
import json, sys, urllib.request, urllib.error
port, acked = sys.argv[1], sys.argv[2]
ids = [l.strip() for l in open(acked) if l.strip()]
missing = []
for i in ids:
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/items/{i}", timeout=10).read()
    except urllib.error.HTTPError as e:
        if e.code == 404: missing.append(i)
        else: raise
models = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models"))
print(f"acknowledged: {len(ids)}; missing after restart: {len(missing)}; store holds {models['store']['items']}")
if not ids: print("FAIL: nothing was acknowledged"); sys.exit(1)
if missing: print("FAIL: lost", missing[:10]); sys.exit(1)
# The index was rebuilt or caught up: searching with an item's own input finds it.
item = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/items/{ids[-1]}"))
req = urllib.request.Request(f"http://127.0.0.1:{port}/v1/search", data=json.dumps({"query": item["metadata"]["input"], "k": 1}).encode(),
                             headers={"Content-Type": "application/json"})
top = json.load(urllib.request.urlopen(req))["results"][0]["id"]
if top != ids[-1]: print(f"FAIL: search for {ids[-1]} returned {top}"); sys.exit(1)
print("acknowledged items all present; search finds the last one")
PY

# Graceful stop: SIGTERM makes the server finish, save the index and exit 0.
kill -TERM "$server_pid"
rc=0; wait "$server_pid" || rc=$?
server_pid=""
if [[ $rc -ne 0 ]]; then echo "FAIL: after SIGTERM the server exited with $rc"; tail -5 "$work/server.log"; exit 1; fi
grep -q "stopped; index saved" "$work/server.log" || { echo "FAIL: no 'stopped; index saved' in the log"; exit 1; }
echo "SIGTERM: exit 0, index saved"
echo "PASS"
