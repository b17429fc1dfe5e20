#!/usr/bin/env bash
# Self-supervised pre-training, ours vs lightly + PyTorch, in one run on Fashion-MNIST (Debian's
# dataset-fashion-mnist): the same small CNN (blocks 32,64 → 64-d), heads, augmentation parameters,
# batch size, epochs, optimiser (SGD 0.06 momentum 0.9, DINO Adam 1e-3) and cosine schedule at THREADS
# threads. For each method: training steps/s (ours: the Trainer's steps/s, which include making
# the augmented views; the peer's: forward, backward and update only, views made outside the
# timer; so the ratio understates ours) and k-NN accuracy (k 20,
# T 0.07, `siamese evaluate-retrieval --knn`, the same scorer for both) of the test subset against
# the training subset; raw-pixel k-NN as the floor.
# Label efficiency, per seed: LABELLED_N (600) class-balanced training images are the only labelled
# ones; a linear probe (`evaluate-retrieval --linear-probe`, trained on their embeddings, tested on
# the test subset) on the encoder of the method with the best k-NN against the same probe on a
# supervised twin (`siamese train`: the same CNN, triplet loss with batch-hard mining, SUP_EPOCHS
# epochs on those 600 images alone) and on raw pixels.
# Learning rates: lightly's examples' (SGD 0.06, DINO Adam 1e-3) for both sides, except VICReg at
# 0.02 (LR_VICREG): at 0.06 both lightly and ours reach a NaN loss within the first epoch here.
# A method whose training stops (a non-finite loss) prints "failed" and the table goes on.
# Usage: [TRAIN_N=6000] [TEST_N=2000] [EPOCHS=5] [SEEDS="0"] [THREADS=2] [METHODS="simclr ..."] [LABELLED_N=600] [SUP_EPOCHS=30] Benchmarks/ssl_fashion_mnist.sh
set -euo pipefail
cd "$(dirname "$0")/.."
TRAIN_N=${TRAIN_N:-6000}; TEST_N=${TEST_N:-2000}; EPOCHS=${EPOCHS:-5}; SEEDS=${SEEDS:-0}; THREADS=${THREADS:-2}
METHODS=${METHODS:-"simclr byol simsiam barlow vicreg dino"}
BATCH=${BATCH:-256}
LABELLED_N=${LABELLED_N:-600}; SUP_EPOCHS=${SUP_EPOCHS:-30}; LR_VICREG=${LR_VICREG:-0.02}
if ! dpkg -s dataset-fashion-mnist >/dev/null 2>&1; then
  apt-get install -y dataset-fashion-mnist >/dev/null
fi
SRC=$(dirname "$(dpkg -L dataset-fashion-mnist | grep -m1 'train-images')")
PY=${PEER_PYTHON:-Benchmarks/.venv-ssl/bin/python}
if [ ! -x "$PY" ]; then
  python3 -m venv Benchmarks/.venv-ssl
  Benchmarks/.venv-ssl/bin/pip install --quiet torch==2.13.0 numpy
  Benchmarks/.venv-ssl/bin/pip install --quiet --no-deps lightly==1.6.0
fi
if [ -z "${SIAMESE_BIN:-}" ]; then
  swift build -c release --product siamese >/dev/null
  SIAMESE_BIN=$(swift build -c release --show-bin-path)/siamese
fi
BIN=$SIAMESE_BIN
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

knn() { # train.npy test.npy → accuracy ("diverged" when the embeddings are not finite: evaluate-retrieval refuses them)
  local out
  if out=$("$BIN" evaluate-retrieval --embeddings "$1" --labels "$WORK/data/train-labels.txt" --queries "$2" \
    --query-labels "$WORK/data/test-labels.txt" --knn --format json 2>/dev/null); then
    echo "$out" | "$PY" -c 'import json,sys; print("%.4f" % json.load(sys.stdin)["knn"]["accuracy"])'
  else
    echo diverged
  fi
}

probe() { # labelled.npy test.npy → linear-probe accuracy on the test subset
  "$BIN" evaluate-retrieval --embeddings "$1" --labels "$WORK/data/labelled-labels.txt" --queries "$2" \
    --query-labels "$WORK/data/test-labels.txt" --linear-probe --format json 2>/dev/null |
    "$PY" -c 'import json,sys; print("%.4f" % json.load(sys.stdin)["linear_probe"]["accuracy"])' || echo failed
}

for seed in $SEEDS; do
  "$PY" Benchmarks/ssl/prepare_fashion_mnist.py "$SRC" "$WORK/data" "$TRAIN_N" "$TEST_N" "$seed" "$LABELLED_N" >/dev/null
  echo "seed $seed: raw-pixel k-NN $(knn "$WORK/data/train.npy" "$WORK/data/test.npy")  ($TRAIN_N train, $TEST_N test, $EPOCHS epochs, batch $BATCH, $THREADS threads)"
  printf '%-8s | %10s %10s %6s | %8s %8s\n' method ours_st/s torch_st/s ratio knn_ours knn_torch
  best=""; best_knn=0
  for m in $METHODS; do
    out="$WORK/ours-$m-$seed"
    lr=(); peer_lr=()
    if [ "$m" = vicreg ]; then lr=(--lr "$LR_VICREG"); peer_lr=("$LR_VICREG"); fi
    if ! ours=$("$BIN" pretrain --method "$m" --data "$WORK/data/train-images-idx3-ubyte" --augment image --epochs "$EPOCHS" \
      --batch-size "$BATCH" --seed "$seed" --threads "$THREADS" --no-resume --output "$out" --format json "${lr[@]}" 2>/dev/null); then
      printf '%-8s | ours failed (training stopped: a non-finite loss)\n' "$m"
      continue
    fi
    "$BIN" embed --model "$out" --input "$WORK/data/train-images-idx3-ubyte" --output "$out/train.npy" --threads "$THREADS" >/dev/null
    "$BIN" embed --model "$out" --input "$WORK/data/test-images-idx3-ubyte" --output "$out/test.npy" --threads "$THREADS" >/dev/null
    peer_dir="$WORK/peer-$m-$seed"; mkdir -p "$peer_dir"
    peer=$(OMP_NUM_THREADS=$THREADS "$PY" Benchmarks/ssl/ssl_peer.py "$m" "$WORK/data/train.npy" "$WORK/data/test.npy" "$peer_dir" \
      "$EPOCHS" "$BATCH" "$seed" "$THREADS" "${peer_lr[@]}")
    o=$(echo "$ours" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["steps_per_s"])')
    t=$(echo "$peer" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["steps_per_s"])')
    k_ours=$(knn "$out/train.npy" "$out/test.npy")
    printf '%-8s | %10.2f %10.2f %6.2f | %8s %8s\n' "$m" "$o" "$t" "$(echo "$o / $t" | bc -l)" \
      "$k_ours" "$(knn "$peer_dir/train.npy" "$peer_dir/test.npy")"
    if [ "$k_ours" != diverged ] && [ "$(echo "$k_ours > $best_knn" | bc -l)" = 1 ]; then best=$m; best_knn=$k_ours; fi
  done
  if [ -n "$best" ]; then
    lab="$WORK/data/labelled-images-idx3-ubyte"
    "$BIN" embed --model "$WORK/ours-$best-$seed" --input "$lab" --output "$WORK/ssl-lab.npy" --threads "$THREADS" >/dev/null
    "$BIN" train --data "$lab" --labels "$WORK/data/labelled-labels-idx1-ubyte" --encoder cnn --image 28x28 --blocks 32,64 --dim 64 \
      --loss triplet --miner batch-hard --epochs "$SUP_EPOCHS" --batch-size 64 --seed "$seed" --threads "$THREADS" --no-resume \
      --calibration none --output "$WORK/sup-$seed" >/dev/null 2>&1
    "$BIN" embed --model "$WORK/sup-$seed" --input "$lab" --output "$WORK/sup-lab.npy" --threads "$THREADS" >/dev/null
    "$BIN" embed --model "$WORK/sup-$seed" --input "$WORK/data/test-images-idx3-ubyte" --output "$WORK/sup-test.npy" --threads "$THREADS" >/dev/null
    "$PY" -c 'import numpy as np, sys; np.save(sys.argv[2], np.frombuffer(open(sys.argv[1], "rb").read()[16:], np.uint8).reshape(-1, 784).astype(np.float32) / 255)' \
      "$lab" "$WORK/raw-lab.npy"
    echo "label efficiency, seed $seed: linear probe on $LABELLED_N labelled images, tested on $TEST_N:" \
      "$best (pre-trained, no labels) $(probe "$WORK/ssl-lab.npy" "$WORK/ours-$best-$seed/test.npy")," \
      "supervised twin ($SUP_EPOCHS epochs on the $LABELLED_N) $(probe "$WORK/sup-lab.npy" "$WORK/sup-test.npy")," \
      "raw pixels $(probe "$WORK/raw-lab.npy" "$WORK/data/test.npy")"
  fi
done
