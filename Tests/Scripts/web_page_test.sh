#!/usr/bin/env bash
# The web page at / in headless Chromium with no network: it loads, a compare works (score and
# decision shown) and a search over the store answers. The page's `?selftest=1` mode fills and
# submits both forms and writes the outcome into #selftest, which we read from the dumped DOM.
# The server and Chromium run in a private network namespace (loopback only) when `unshare -rn`
# works here; otherwise on the host's loopback with proxies off and every host name unresolvable.
# Needs: chromium (apt-get install -y chromium). Usage: Tests/Scripts/web_page_test.sh [--quick]
# (both modes take a few seconds; --quick is accepted for symmetry with the other scripts).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/service_common.sh"
command -v chromium >/dev/null || { echo "chromium is not installed (apt-get install -y chromium)"; exit 1; }

build_siamese
work="$(mktemp -d)"
trap 'stop_server; rm -rf "$work"' EXIT
export XDG_CACHE_HOME="$work/cache"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/key"

inner="$work/inner.sh"
cat >"$inner" <<INNER
set -euo pipefail
source "$repo/Tests/Scripts/service_common.sh"
SIAMESE_BIN="$SIAMESE_BIN"
ip link set lo up 2>/dev/null || true
port=\$(free_port)
start_server "$work/server.log" --host 127.0.0.1 --port "\$port" --store "$work/store.sqlite" --api-key-file "$work/key"
trap stop_server EXIT
# A few items, so the page's search has something to find: the demo model's example signatures.
demo_examples "http://127.0.0.1:\$port" | python3 -c '
import json, sys
examples = json.load(sys.stdin)
items = [{"id": "reference", "text": "genuine reference signature", "vector": examples[0]["a"]}]
items += [{"id": ex["name"], "text": ex["name"].replace("_", " "), "vector": ex["b"]} for ex in examples]
print(json.dumps({"items": items}))
' >"$work/items.json"
curl -sf -H "Authorization: Bearer \$(cat "$work/key")" -H 'Content-Type: application/json' \
  -d @"$work/items.json" "http://127.0.0.1:\$port/v1/items" >/dev/null
timeout 60 chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions --disable-background-networking \
  --disable-component-update --disable-sync --no-proxy-server --host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE 127.0.0.1" \
  --user-data-dir="$work/chromium" --virtual-time-budget=15000 --dump-dom "http://127.0.0.1:\$port/?selftest=1" \
  >"$work/dom.html" 2>"$work/chromium.log" || true
INNER

if unshare -rn true 2>/dev/null; then
  echo "running in a private network namespace (no network but loopback)"
  unshare -rn bash "$inner"
else
  echo "unshare -rn is not available: running on the host's loopback with proxies and name resolution off"
  bash "$inner"
fi

if grep -q 'data-status="ok"' "$work/dom.html" && grep -q 'search returned [1-9]' "$work/dom.html"; then
  sed -n 's/.*<div id="selftest"[^>]*>\([^<]*\)<.*/\1/p' "$work/dom.html"
  grep -o '<div id="compare-decision"[^>]*>[^<]*</div>' "$work/dom.html" || true
  echo "PASS"
else
  echo "FAIL: the page's self-test did not pass"
  grep -o '<div id="selftest"[^>]*>[^<]*</div>' "$work/dom.html" || echo "(no #selftest in the DOM; chromium log follows)"
  tail -20 "$work/chromium.log"
  exit 1
fi
