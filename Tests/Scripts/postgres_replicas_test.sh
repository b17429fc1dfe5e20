#!/usr/bin/env bash
# Two `siamese serve` replicas on one PostgreSQL store (issue 13): an item acknowledged by one
# is found at once by the other, by id and by search (read-your-writes across replicas), and
# deletes too. Needs the server of scripts/postgres.sh (started here when none runs, stopped on
# exit then); SIAMESE_NO_POSTGRES=1 skips it on purpose.
#
#   Tests/Scripts/postgres_replicas_test.sh [--quick]
set -euo pipefail
source "$(dirname "$0")/service_common.sh"
cd "$repo"

if [[ "${SIAMESE_NO_POSTGRES:-}" == 1 ]]; then echo "postgres_replicas_test: skipped (SIAMESE_NO_POSTGRES=1)"; exit 0; fi
rounds=40
[[ "${1:-}" == "--quick" ]] && rounds=20

build_siamese
work="$(mktemp -d)"
pids=()
started_pg=0
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ $started_pg -eq 0 ]] || scripts/postgres.sh stop || true
  rm -rf "$work"
}
trap cleanup EXIT

if ! scripts/postgres.sh url >/dev/null 2>&1; then started_pg=1; scripts/postgres.sh start >/dev/null; fi
url="$(scripts/postgres.sh fresh)"
key="replica-test-key-0123456789"
echo "$key" >"$work/key"
export SIAMESE_DEMO_CACHE="${SIAMESE_DEMO_CACHE:-$work/demo}"

ports=()
for r in 0 1; do
  port="$(free_port)"
  ports+=("$port")
  start_server "$work/serve-$r.log" --port "$port" --store "$url" --api-key-file "$work/key"
  pids+=("$server_pid")
done
server_pid=""

# Each round: upsert through one replica, then read by id and search through the other.
python3 - "$rounds" "${ports[0]}" "${ports[1]}" "$key" <<'EOF'
import json, random, sys, urllib.request, urllib.error
rounds, ports, key = int(sys.argv[1]), sys.argv[2:4], sys.argv[4]
def call(port, method, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")
rng = random.Random(13)
failures = []
for i in range(rounds):
    writer, reader = ports[i % 2], ports[1 - i % 2]
    vector = [rng.uniform(-1, 1) for _ in range(192)]
    item_id = f"replica-{i}-é/ü ?%"
    status, body = call(writer, "POST", "/v1/items", {"items": [{"id": item_id, "vector": vector, "metadata": {"round": i}}]})
    if status != 200: failures.append(f"round {i}: upsert answered {status} {body}"); continue
    quoted = urllib.request.quote(item_id, safe="")
    status, body = call(reader, "GET", f"/v1/items/{quoted}")
    if status != 200 or body.get("id") != item_id: failures.append(f"round {i}: the other replica's GET answered {status} {body}")
    status, body = call(reader, "POST", "/v1/search", {"query": vector, "k": 1, "filter": {"round": i}})
    hits = [h["id"] for h in (body or {}).get("results", [])] if status == 200 else None
    if hits != [item_id]: failures.append(f"round {i}: the other replica's search answered {status} {hits or body}")
# Deletes are seen across replicas too.
status, body = call(ports[0], "DELETE", "/v1/items", {"ids": ["replica-0-é/ü ?%"]})
status2, _ = call(ports[1], "GET", "/v1/items/" + urllib.request.quote("replica-0-é/ü ?%", safe=""))
if status != 200 or body.get("deleted") != 1 or status2 != 404: failures.append(f"delete: {status} {body}, then GET on the other replica {status2}")
status, body = call(ports[1], "GET", "/v1/models")
if status != 200 or body["store"]["items"] != rounds - 1: failures.append(f"/v1/models on replica 1: {status} {body.get('store') if body else body}")
if failures:
    print("\n".join(failures), file=sys.stderr); sys.exit(1)
print(f"postgres_replicas_test: {rounds} rounds of read-your-writes across two replicas, and a delete: all seen at once")
EOF

# The URL (no password here) is what the logs show; no log line may carry a password-like field.
for r in 0 1; do
  grep -q "store opened" "$work/serve-$r.log" || { echo "replica $r logged no 'store opened' line" >&2; exit 1; }
done
