#!/usr/bin/env bash
# Siamese training, ours vs PyTorch, in one run: scikit-learn's 8x8 digits, MLP 64-128-64->32 and a
# small CNN, contrastive (margin 0.5, cosine) and batch-hard triplet (margin 0.3, cosine) losses,
# Adam 1e-3, batch 128, 30 epochs, seed 0; a random 70/30 split and an open-set split (train 0-6,
# test 7-9). Prints steps/s (training steps only, both sides) and test metrics computed by one
# script for both systems. One seed's open-set AUC swings by ±0.03–0.05 on either side, so the
# open split is then repeated over SEEDS seeds (default 5; 0 skips) and compared as mean ± sd.
# Usage: [SEEDS=N] Benchmarks/siamese_train.sh [EPOCHS]
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS=${1:-30}
bash Benchmarks/setup_venv.sh >/dev/null
PY=Benchmarks/.venv/bin/python
"$PY" -m pip install --quiet scikit-learn >/dev/null 2>&1 || true
DATA=Benchmarks/data/digits
"$PY" Benchmarks/siamese/export_digits.py "$DATA" >/dev/null
if [ -z "${SIAMESE_BIN:-}" ]; then
  swift build -c release --product siamese >/dev/null
  SIAMESE_BIN=$(swift build -c release --show-bin-path)/siamese
fi
BIN=$SIAMESE_BIN
source Benchmarks/lib/idle.sh
check_idle
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

ours() { # split encoder loss threads
  local split=$1 enc=$2 loss=$3 t=$4 out="$WORK/$1-$2-$3-$4"
  local encflags=(--encoder mlp --layers 64,128,64) lossflags=(--loss contrastive --margin 0.5)
  [ "$enc" = cnn ] && encflags=(--encoder cnn --image 8x8)
  [ "$loss" = triplet ] && lossflags=(--loss triplet --miner batch-hard --margin 0.3)
  local summary
  summary=$("$BIN" train --data "$DATA/${split}_train.csv" --label-column label "${encflags[@]}" --dim 32 "${lossflags[@]}" \
    --epochs "$EPOCHS" --batch-size 128 --lr 0.001 --seed 0 --threads "$t" --no-resume --output "$out" --json)
  "$BIN" embed --model "$out" --input "$DATA/${split}_test.csv" --output "$out/test.npy" --threads "$t" >/dev/null
  "$PY" - "$summary" "$out/test.npy" "$DATA/${split}_test.csv" <<'PYEOF'
import csv, json, sys
import numpy as np
sys.path.insert(0, "Benchmarks/siamese")
from metrics import evaluate
s = json.loads(sys.argv[1])
y = np.array([int(r[-1]) for r in list(csv.reader(open(sys.argv[3])))[1:]])
r = {"system": "ours", "steps": s["steps"], "steps_per_s": s["steps_per_s"]}
r.update(evaluate(np.load(sys.argv[2]), y))
print(json.dumps(r))
PYEOF
}

peer() { # split encoder loss threads
  local env=(OMP_NUM_THREADS=$4)
  [ "$4" = 2 ] && env+=(OMP_WAIT_POLICY=PASSIVE)
  env "${env[@]}" "$PY" Benchmarks/siamese/train_peer.py "$DATA/$1_train.csv" "$DATA/$1_test.csv" "$2" "$3" "$4" "$EPOCHS"
}

printf '%-7s %-4s %-12s %2s | %9s %9s %6s | %6s %6s | %6s %6s | %6s %6s | %6s %6s\n' \
  split enc loss th ours_st/s torch_st/s ratio auc_o auc_t eer_o eer_t p1_o p1_t 1sh_o 1sh_t
for split in random open; do
  for enc in mlp cnn; do
    for loss in contrastive triplet; do
      for t in 1 2; do
        [ "$split" = open ] && [ "$t" = 1 ] && continue
        o=$(ours "$split" "$enc" "$loss" "$t")
        p=$(peer "$split" "$enc" "$loss" "$t")
        "$PY" - "$o" "$p" "$split" "$enc" "$loss" "$t" <<'PYEOF'
import json, sys
o, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
split, enc, loss, t = sys.argv[3:7]
print(f"{split:<7} {enc:<4} {loss:<12} {t:>2} | {o['steps_per_s']:9.0f} {p['steps_per_s']:9.0f} {o['steps_per_s']/p['steps_per_s']:5.1f}x"
      f" | {o['auc']:.4f} {p['auc']:.4f} | {o['eer']:.4f} {p['eer']:.4f} | {o['precision_at_1']:.4f} {p['precision_at_1']:.4f}"
      f" | {o['one_shot_3way']:.4f} {p['one_shot_3way']:.4f}")
PYEOF
      done
    done
  done
done
echo "(_o ours, _t PyTorch; steps/s counts training steps only on both sides; metrics on the test split by Benchmarks/siamese/metrics.py)"
SEEDS=${SEEDS:-5}
if [ "$SEEDS" -gt 0 ]; then
  echo
  echo "open split over seeds 0-$((SEEDS - 1)) (1 thread each): mean and sd of the test metrics, ours (_o) vs PyTorch (_t)"
  for enc in mlp cnn; do
    for loss in contrastive triplet; do
      SIAMESE_BIN=$BIN Benchmarks/siamese/seeds.sh open "$enc" "$loss" "$SEEDS" "$EPOCHS" 2>/dev/null | sed -n '1p;2p;/^mean/p;/^  sd/p;/^AUC/p'
    done
  done
fi
