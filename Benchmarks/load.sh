#!/usr/bin/env bash
# HTTP load on `siamese serve` with the demo model, from wrk on loopback: requests/s and
# p50/p99 latency for search (over a store of N items), verify and embed (one input per request,
# so concurrent requests exercise the dynamic batcher). Fails if any request errs.
# Needs: wrk (apt-get install -y wrk). Bounded: --quick 3 s per route with 1,000 items; full 15 s with 20,000.
# Usage: Benchmarks/load.sh [--quick]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../Tests/Scripts/service_common.sh"
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install -y wrk)"; exit 1; }

seconds=15; items=20000; connections=32
if [[ "${1:-}" == "--quick" ]]; then seconds=3; items=1000; connections=16; fi

build_siamese
work="$(mktemp -d)"
trap 'stop_server; rm -rf "$work"' EXIT
export XDG_CACHE_HOME="$work/cache"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/key"
port=$(free_port)
start_server "$work/server.log" --host 127.0.0.1 --port "$port" --store "$work/store.sqlite" --api-key-file "$work/key" \
  --log-level warning --max-inputs 1000
base="http://127.0.0.1:$port"

# Fill the store (1,000 items per request).
python3 - "$base" "$work/key" "$items" <<'PY'
import json, random, sys, urllib.request
base, key, n = sys.argv[1], open(sys.argv[2]).read().strip(), int(sys.argv[3])
dim = json.load(urllib.request.urlopen(base + "/v1/models"))["models"][0]["input_dimension"]
rng = random.Random(1)
for start in range(0, n, 1000):
    items = [{"id": f"item-{i}", "vector": [rng.gauss(0, 1) for _ in range(dim)], "metadata": {"group": i % 10}} for i in range(start, min(n, start + 1000))]
    req = urllib.request.Request(base + "/v1/items", data=json.dumps({"items": items}).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "Authorization": "Bearer " + key})
    urllib.request.urlopen(req).read()
PY

vec='[0.3,-1.2,0.5,0.9,-0.1,0.0,1.4,-0.7]'
vec2='[0.31,-1.1,0.52,0.88,-0.12,0.05,1.35,-0.69]'
declare -A bodies=(
  [search]="{\"query\":$vec,\"k\":10}"
  [verify]="{\"a\":$vec,\"b\":$vec2}"
  [embed]="{\"inputs\":[$vec]}"
)
echo "siamese serve, demo model, $items items in the store; wrk 2 threads × $connections connections, ${seconds} s per route $(busy_marker)"
printf '%-8s %12s %10s %10s %8s\n' route "requests/s" "p50 ms" "p99 ms" errors
failed=0
for route in search verify embed; do
  body="${bodies[$route]}"
  cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
LUA
  out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/post.lua" "$base/v1/$route" 2>&1)
  rps=$(awk '/^Requests\/sec/ { print $2 }' <<<"$out")
  p50=$(awk '$1 == "50%" { print $2 }' <<<"$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<<"$out")
  non2xx=$(awk '/Non-2xx/ { print $NF }' <<<"$out"); non2xx=${non2xx:-0}
  sock=$(awk -F'[ ,]+' '/Socket errors/ { for (i = 1; i < NF; i++) if ($i ~ /^(connect|read|write|timeout)$/) s += $(i + 1); print s }' <<<"$out"); sock=${sock:-0}
  to_ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v } else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 } else print v }'; }
  printf '%-8s %12s %10s %10s %8s\n' "$route" "$rps" "$(to_ms "$p50")" "$(to_ms "$p99")" "$((non2xx + sock))"
  if (( non2xx + sock > 0 )); then failed=1; echo "$out" | tail -5; fi
done
curl -s "$base/metrics" | awk '/^siamese_embed_(batches|requests)_count / { printf "%s %s\n", $1, $2 }'
if (( failed )); then echo "FAIL: some requests failed"; exit 1; fi
