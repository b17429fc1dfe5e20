#!/usr/bin/env bash
# Quality over several seeds, ours vs PyTorch: is a gap in one seeded run of siamese_train.sh real,
# or seed variance? Trains both systems with seeds 0..N-1 on one split / encoder / loss (one thread
# each, so speed is not the point here) and prints per-seed test metrics and mean ± sd of each,
# computed by Benchmarks/siamese/metrics.py for both.
# Usage: Benchmarks/siamese/seeds.sh SPLIT(random|open) ENCODER(mlp|cnn) LOSS(contrastive|triplet) [SEEDS] [EPOCHS]
# Env: FIRST (first seed, default 0), SIAMESE_BIN (default: the release build), EXTRA (more `siamese train` flags, e.g. to try a change).
set -euo pipefail
cd "$(dirname "$0")/../.."
SPLIT=$1 ENC=$2 LOSS=$3 SEEDS=${4:-5} EPOCHS=${5:-30}
PY=Benchmarks/.venv/bin/python
DATA=Benchmarks/data/digits
[ -f "$DATA/${SPLIT}_train.csv" ] || "$PY" Benchmarks/siamese/export_digits.py "$DATA" >/dev/null
BIN=${SIAMESE_BIN:-$(swift build -c release --show-bin-path)/siamese}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
encflags=(--encoder mlp --layers 64,128,64) lossflags=(--loss contrastive --margin 0.5)
[ "$ENC" = cnn ] && encflags=(--encoder cnn --image 8x8)
[ "$LOSS" = triplet ] && lossflags=(--loss triplet --miner batch-hard --margin 0.3)
# shellcheck disable=SC2206
extra=(${EXTRA:-})

for s in $(seq "${FIRST:-0}" $((${FIRST:-0} + SEEDS - 1))); do
  out="$WORK/s$s"
  "$BIN" train --data "$DATA/${SPLIT}_train.csv" --label-column label "${encflags[@]}" --dim 32 "${lossflags[@]}" \
    --epochs "$EPOCHS" --batch-size 128 --lr 0.001 --seed "$s" --threads 1 --no-resume --output "$out" --json "${extra[@]}" >/dev/null
  "$BIN" embed --model "$out" --input "$DATA/${SPLIT}_test.csv" --output "$out/test.npy" --threads 1 >/dev/null
  o=$("$PY" -c '
import csv, json, sys
import numpy as np
sys.path.insert(0, "Benchmarks/siamese")
from metrics import evaluate
y = np.array([int(r[-1]) for r in list(csv.reader(open(sys.argv[2])))[1:]])
print(json.dumps(evaluate(np.load(sys.argv[1]), y)))' "$out/test.npy" "$DATA/${SPLIT}_test.csv")
  p=$(SEED=$s OMP_NUM_THREADS=1 "$PY" Benchmarks/siamese/train_peer.py "$DATA/${SPLIT}_train.csv" "$DATA/${SPLIT}_test.csv" "$ENC" "$LOSS" 1 "$EPOCHS")
  echo "$s $o $p" >> "$WORK/rows"
  echo "seed $s done" >&2
done

"$PY" - "$WORK/rows" "$SPLIT" "$ENC" "$LOSS" <<'PYEOF'
import json, sys
import numpy as np
rows = []
for line in open(sys.argv[1]):
    seed, rest = line.split(" ", 1)
    o, p = rest.strip().split("} {")
    rows.append((int(seed), json.loads(o + "}"), json.loads("{" + p)))
keys = ["auc", "eer", "precision_at_1", "one_shot_3way"]
print(f"{sys.argv[2]} {sys.argv[3]} {sys.argv[4]}: {len(rows)} seeds")
print("seed | " + " | ".join(f"{k[:6]:>6}_o {k[:6]:>6}_t" for k in keys))
for s, o, p in rows:
    print(f"{s:4d} | " + " | ".join(f"{o[k]:8.4f} {p[k]:8.4f}" for k in keys))
for name, f in (("mean", np.mean), ("sd", lambda a: np.std(a, ddof=1) if len(a) > 1 else 0.0)):
    print(f"{name:>4} | " + " | ".join(f"{f([o[k] for _, o, _ in rows]):8.4f} {f([p[k] for _, _, p in rows]):8.4f}" for k in keys))
d = np.array([o["auc"] - p["auc"] for _, o, p in rows])
se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else float("nan")
print(f"AUC ours - torch: mean {d.mean():+.4f}, sd of the mean difference {se:.4f}")
PYEOF
