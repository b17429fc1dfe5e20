#!/usr/bin/env bash
# Property-based fuzzing of the API from its own /openapi.json with schemathesis (PyPI, in
# Benchmarks/.venv-service): valid and invalid bodies for every operation, with the API key so
# that write routes are exercised too. Fails on any 5xx (schemathesis's not_a_server_error check) and on any
# answer that does not match its documented schema (response_schema_conformance).
# Loopback only, bounded: --quick 20 examples per operation within 40 s, full 300 within 7 min.
# Needs: pip (creates the venv on first use). Usage: Tests/Scripts/api_fuzz.sh [--quick]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/service_common.sh"

examples=300; limit_s=420
if [[ "${1:-}" == "--quick" ]]; then examples=20; limit_s=40; fi

venv="$repo/Benchmarks/.venv-service"
if [[ ! -x "$venv/bin/schemathesis" && ! -x "$venv/bin/st" ]]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet schemathesis
fi
st="$venv/bin/schemathesis"; [[ -x "$st" ]] || st="$venv/bin/st"

build_siamese
work="$(mktemp -d)"
trap 'stop_server; rm -rf "$work"' EXIT
export XDG_CACHE_HOME="$work/cache"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/key"
port=$(free_port)
start_server "$work/server.log" --host 127.0.0.1 --port "$port" --store "$work/store.sqlite" --api-key-file "$work/key" \
  --max-inputs 64 --timeout-ms 10000

status=0
timeout $((limit_s + 60)) "$st" run "http://127.0.0.1:$port/openapi.json" --url "http://127.0.0.1:$port" \
  --checks not_a_server_error,response_schema_conformance --max-examples "$examples" --max-time "$limit_s" --header "Authorization: Bearer $(cat "$work/key")" \
  --workers 2 --seed 1 --suppress-health-check all --request-timeout 30 >"$work/st.log" 2>&1 || status=$?
tail -40 "$work/st.log"
echo "server log lines with a 5xx status: $(grep -c 'status=5[0-9][0-9]' "$work/server.log" || true)"
if [[ $status -ne 0 ]]; then echo "FAIL: schemathesis exited with $status"; exit 1; fi
if grep -q 'status=5[0-9][0-9]' "$work/server.log"; then echo "FAIL: the server answered 5xx"; exit 1; fi
echo "PASS"
