"""Unsupervised SimCSE with sentence-transformers (the peer of `siamese pretrain --method simcse`),
and the Lee-corpus scorer both sides use.

  simcse_peer.py train BASE SENTENCES.txt DOCS.txt OUT_DIR EPOCHS BATCH LR SEED THREADS TEMPERATURE
      trains BASE on the sentences (each its own positive, two forward passes with dropout, the
      batch's other sentences as negatives: MultipleNegativesRankingLoss at scale 1/TEMPERATURE),
      AdamW (weight decay 0.01), linear warm-up over 10 % of the steps then linear decay, gradient
      norm clipped to 1 — the recipe `siamese pretrain --method simcse` follows — then writes
      OUT_DIR/docs.npy (the trained model's embeddings of DOCS.txt) and prints
      {"steps", "seconds", "steps_per_s"} (tokenising, forward, backward and update timed).
  simcse_peer.py embed MODEL DOCS.txt OUT.npy THREADS
  simcse_peer.py score SIMILARITIES.txt X.npy [Y.npy ...]
      Spearman (and Pearson) correlation between the cosine similarities of each matrix's 50 rows
      and the 1,225 human ratings above the diagonal of SIMILARITIES.txt.
"""
import json
import os
import random
import sys
import time

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").rstrip("\r") for line in f]


def score(sim_path, paths):
    from scipy.stats import pearsonr, spearmanr
    human = np.loadtxt(sim_path)
    upper = np.triu_indices(human.shape[0], 1)
    out = {}
    for p in paths:
        x = np.load(p).astype(np.float64)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        cos = (x @ x.T)[upper]
        out[p] = {"spearman": float(spearmanr(cos, human[upper]).statistic), "pearson": float(pearsonr(cos, human[upper]).statistic),
                  "pairs": int(len(cos))}
    print(json.dumps(out))


def embed(model, docs, out):
    np.save(out, model.encode(docs, batch_size=32, convert_to_numpy=True).astype(np.float32))


def train(base, sentences_path, docs_path, out_dir, epochs, batch, lr, seed, threads, temperature):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from text_train_peer import train as fine_tune
    seen, sentences = set(), []
    for s in read_lines(sentences_path):
        if s.strip() and s not in seen:
            seen.add(s)
            sentences.append(s)
    # Each sentence its own positive: two forward passes, two dropout masks.
    model, timing = fine_tune(base, [(s, s) for s in sentences], "mnrl", epochs, batch, lr, seed, threads, scale=1.0 / temperature)
    os.makedirs(out_dir, exist_ok=True)
    embed(model, read_lines(docs_path), os.path.join(out_dir, "docs.npy"))
    print(json.dumps(timing))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "train":
        a = sys.argv[2:]
        train(a[0], a[1], a[2], a[3], int(a[4]), int(a[5]), float(a[6]), int(a[7]), int(a[8]), float(a[9]))
    elif mode == "embed":
        import torch
        from sentence_transformers import SentenceTransformer
        torch.set_num_threads(int(sys.argv[5]))
        embed(SentenceTransformer(sys.argv[2], device="cpu"), read_lines(sys.argv[3]), sys.argv[4])
    elif mode == "score":
        score(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(f"unknown mode {mode}")
