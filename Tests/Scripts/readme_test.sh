#!/usr/bin/env bash
# Runs every shell block of README.md as written, in order, in one scratch folder, and fails when
# any command in one fails (issue 16: "every README example runs as written").
#
#   Tests/Scripts/readme_test.sh [README]      # SIAMESE_BIN: the built siamese (else it is built)
#
# What the blocks see:
# - `siamese` on PATH is the built binary; `swift run -c release siamese ARGS` runs it with ARGS and
#   `swift build -c release [--show-bin-path]` reports the build the test command already made
#   (building again here would only take minutes to make the same binary);
# - `all-MiniLM-L6-v2` resolves by name through SIAMESE_MODELS to $SIAMESE_MINILM_DIR;
# - `Examples/` is the repository's sample data; `curl` fails on an HTTP error status (--fail-with-body).
# A block preceded by `<!-- readme: skip REASON -->` is not run, and is listed as skipped with its
# reason; one preceded by `<!-- readme: serve -->` starts its first line in the background, waits
# for /healthz on the port it names (default 8080), runs the other lines, then stops the server.
set -euo pipefail
source "$(dirname "$0")/service_common.sh"
readme="${1:-$repo/README.md}"
build_siamese
work="$(mktemp -d)"
server=""
# The PostgreSQL blocks start scripts/postgres.sh's server; one that this run started is stopped.
pg_was_running=0; "$repo/scripts/postgres.sh" url >/dev/null 2>&1 && pg_was_running=1
cleanup() {
  [[ -n "$server" ]] && kill "$server" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"
  [[ $pg_was_running -eq 1 ]] || "$repo/scripts/postgres.sh" stop || true
}
trap cleanup EXIT

mkdir -p "$work/bin" "$work/run" "$work/models"
ln -s "$SIAMESE_BIN" "$work/bin/siamese"
cat > "$work/bin/swift" <<'SH'
#!/usr/bin/env bash
# Stands in for the toolchain inside README blocks: the binary is already built.
if [[ "${1:-}" == run ]]; then
  shift
  while [[ "${1:-}" == -c || "${1:-}" == --configuration ]]; do shift 2; done
  [[ "${1:-}" == siamese ]] || { echo "readme_test: swift run of '${1:-}'" >&2; exit 1; }
  shift
  exec siamese "$@"
fi
if [[ "${1:-}" == build ]]; then
  for a in "$@"; do [[ "$a" == --show-bin-path ]] && { dirname "$(command -v siamese)"; exit 0; }; done
  exit 0
fi
echo "readme_test: 'swift $*' is not stood in for" >&2
exit 1
SH
chmod +x "$work/bin/swift"
# curl in a block fails on an HTTP error status, as a person reading the answer would notice.
real_curl="$(command -v curl)"
printf '#!/usr/bin/env bash\nexec %s --fail-with-body "$@"\n' "$real_curl" > "$work/bin/curl"
chmod +x "$work/bin/curl"
if [[ -n "${SIAMESE_MINILM_DIR:-}" ]]; then ln -s "$SIAMESE_MINILM_DIR" "$work/models/all-MiniLM-L6-v2"; fi
ln -s "$repo/Examples" "$work/run/Examples"
ln -s "$repo/scripts" "$work/run/scripts"

python3 - "$readme" "$work/blocks" <<'PY'
import os, re, sys
text = open(sys.argv[1], encoding="utf-8").read().split("\n")
out = sys.argv[2]
os.makedirs(out)
n, i, directive = 0, 0, ""
while i < len(text):
    line = text[i]
    m = re.match(r"<!-- readme: (.*?) -->", line.strip())
    if m:
        directive = m.group(1)
    elif line.strip() == "```sh":
        j = i + 1
        while text[j].strip() != "```":
            j += 1
        n += 1
        with open(f"{out}/{n:02d}.sh", "w") as f:
            f.write("\n".join(text[i + 1:j]) + "\n")
        with open(f"{out}/{n:02d}.kind", "w") as f:
            f.write(directive or "run")
        directive = ""
        i = j
    elif line.strip():
        directive = ""
    i += 1
PY

ran=0 skipped=0
export PATH="$work/bin:$PATH" SIAMESE_MODELS="$work/models" SIAMESE_DEMO_CACHE="${SIAMESE_DEMO_CACHE:-$work/demo-cache}"
cd "$work/run"
for block in "$work"/blocks/*.sh; do
  kind="$(cat "${block%.sh}.kind")"
  name="block $(basename "$block" .sh)"
  case "$kind" in
    skip*) echo "readme: $name SKIPPED (${kind#skip })"; skipped=$((skipped + 1)); continue ;;
    serve)
      first="$(head -1 "$block")"
      port="$(grep -o -- '--port [0-9]*' <<<"$first" | awk '{print $2}' || true)"; port="${port:-8080}"
      echo "readme: $name: starting: $first"
      bash -c "$first" > "$work/server.log" 2>&1 &
      server=$!
      ok=""
      for _ in $(seq 1 1800); do
        if "$real_curl" -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then ok=1; break; fi
        kill -0 "$server" 2>/dev/null || break
        sleep 0.1
      done
      [[ -n "$ok" ]] || { echo "readme: $name: the server did not come up" >&2; tail -20 "$work/server.log" >&2; exit 1; }
      tail -n +2 "$block" > "$block.rest"
      if ! bash -euo pipefail "$block.rest"; then echo "readme: $name FAILED" >&2; tail -20 "$work/server.log" >&2; exit 1; fi
      kill -TERM "$server"; wait "$server" || true; server=""
      ;;
    run)
      echo "readme: $name"
      bash -euo pipefail "$block" || { echo "readme: $name FAILED:" >&2; cat "$block" >&2; exit 1; }
      ;;
    *) echo "readme: $name: unknown directive '$kind'" >&2; exit 1 ;;
  esac
  ran=$((ran + 1))
done
echo "readme: $ran blocks ran, $skipped skipped"
