#!/usr/bin/env bash
# HTTP load on `siamese serve` with the demo model (the signature verifier: 192 numbers per input),
# from wrk on loopback: requests/s and p50/p99 latency for search (over a store of N items), verify
# (the demo's genuine example pair) and embed (one signature per request, so concurrent requests
# exercise the dynamic batcher). Fails if any request errs. The first start trains the demo model
# (about ten seconds) unless SIAMESE_DEMO_CACHE names a folder that already holds it.
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
  --log-level warning --max-inputs 1000 --max-body-bytes 16777216
base="http://127.0.0.1:$port"

# Fill the store (1,000 items per request): the demo's example signatures with noise added, so the
# items look like signatures to the model.
python3 - "$base" "$work/key" "$items" "$work" <<'PY'
import json, random, sys, urllib.request
base, key, n, work = sys.argv[1], open(sys.argv[2]).read().strip(), int(sys.argv[3]), sys.argv[4]
examples = json.load(urllib.request.urlopen(base + "/v1/models"))["models"][0]["examples"]
seeds = [examples[0]["a"]] + [ex["b"] for ex in examples]
rng = random.Random(1)
for start in range(0, n, 1000):
    items = [{"id": f"item-{i}", "vector": [x + rng.gauss(0, 0.05) for x in seeds[i % len(seeds)]], "metadata": {"group": i % 10}}
             for i in range(start, min(n, start + 1000))]
    req = urllib.request.Request(base + "/v1/items", data=json.dumps({"items": items}).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "Authorization": "Bearer " + key})
    urllib.request.urlopen(req).read()
genuine = examples[0]
with open(work + "/search.json", "w") as f: json.dump({"query": genuine["a"], "k": 10}, f)
with open(work + "/verify.json", "w") as f: json.dump({"a": genuine["a"], "b": genuine["b"]}, f)
with open(work + "/embed.json", "w") as f: json.dump({"inputs": [genuine["b"]]}, f)
PY

echo "siamese serve, demo model, $items items in the store; wrk 2 threads × $connections connections, ${seconds} s per route $(busy_marker)"
printf '%-8s %12s %10s %10s %8s\n' route "requests/s" "p50 ms" "p99 ms" errors
failed=0
for route in search verify embed; do
  cat >"$work/post.lua" <<LUA
local f = io.open("$work/$route.json", "r")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
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
