#!/usr/bin/env python3
"""Builds the vector-search benchmark corpus from real text on this machine.

Text: the one-line descriptions of every Debian package the APT lists know (`apt-cache
dumpavail`), about 60k sentences such as "Real-time strategy game of ancient warfare".
Embedding: a deterministic stand-in for a sentence encoder until the text issue provides real
ones: TF-IDF-weighted hashed features (word unigrams, word bigrams, character trigrams) projected
to 384 dimensions with a fixed Gaussian matrix, plus a shared offset (real sentence embeddings are
anisotropic: they share a mean direction), L2-normalised.

Output (float32 .npy, rows L2-normalised):
  X.npy        100,000 × 384: the base sentences in a fixed shuffled order, cycled with small
               Gaussian noise (each copy differs) until there are 100,000 rows
  Q.npy        1,000 × 384: held-out sentences (none of them is in X), no noise
  mine.npy     10,000 × 384: the first 10,000 rows of X (paraphrase mining)
  texts.txt    the sentence behind each row of X, then of Q (for inspection)

  index_data.py --out DIR [--rows 100000] [--queries 1000] [--dim 384]
"""
import argparse
import hashlib
import os
import re
import subprocess
import sys

import numpy as np

BUCKETS = 1 << 18


def sentences():
    out = subprocess.run(["apt-cache", "dumpavail"], check=True, capture_output=True, text=True).stdout
    seen = set()
    for line in out.splitlines():
        if line.startswith("Description: "):
            s = line[len("Description: "):].strip()
            if len(s) >= 12 and s not in seen:
                seen.add(s)
    return sorted(seen)  # sorted, so the corpus does not depend on list order


def stable_hash(feature):
    return int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")


def features(sentence):
    words = re.findall(r"[a-z0-9]+", sentence.lower())
    feats = [("w:" + w, 1.0) for w in words]
    feats += [("b:" + a + " " + b, 0.7) for a, b in zip(words, words[1:])]
    for w in words:
        padded = f"<{w}>"
        feats += [("c:" + padded[i:i + 3], 0.25) for i in range(len(padded) - 2)]
    return feats


def embed(texts, dim, seed=1234):
    rng = np.random.default_rng(seed)
    rows, cols, vals = [], [], []
    doc_freq = np.zeros(BUCKETS, dtype=np.int64)
    for i, t in enumerate(texts):
        bucket_weight = {}
        for f, w in features(t):
            b = stable_hash(f) % BUCKETS
            bucket_weight[b] = bucket_weight.get(b, 0.0) + w
        for b, w in bucket_weight.items():
            rows.append(i)
            cols.append(b)
            vals.append(1.0 + np.log(w) if w >= 1 else w)
        doc_freq[list(bucket_weight)] += 1
    rows = np.array(rows, dtype=np.int64)
    cols = np.array(cols, dtype=np.int64)
    vals = np.array(vals, dtype=np.float32)
    idf = np.log((1 + len(texts)) / (1 + doc_freq)).astype(np.float32) + 1.0
    vals *= idf[cols]
    projection = rng.standard_normal((BUCKETS, dim), dtype=np.float32) / np.sqrt(dim)
    offset = rng.standard_normal(dim).astype(np.float32)
    offset /= np.linalg.norm(offset)
    out = np.zeros((len(texts), dim), dtype=np.float32)
    order = np.argsort(rows, kind="stable")
    rows, cols, vals = rows[order], cols[order], vals[order]
    bounds = np.searchsorted(rows, np.arange(len(texts) + 1))
    for start in range(0, len(texts), 2048):
        stop = min(len(texts), start + 2048)
        lo, hi = bounds[start], bounds[stop]
        contrib = projection[cols[lo:hi]] * vals[lo:hi, None]
        sums = np.add.reduceat(contrib, bounds[start:stop] - lo, axis=0) if hi > lo else np.zeros((0, dim))
        empty = bounds[start + 1:stop + 1] == bounds[start:stop]
        sums[empty] = 0
        out[start:stop] = sums
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
    out += 0.35 * offset  # shared direction, as real sentence embeddings have
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    return out.astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--queries", type=int, default=1_000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--noise", type=float, default=0.15, help="norm of the noise added to each copy")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    texts = sentences()
    rng = np.random.default_rng(20261124)
    order = rng.permutation(len(texts))
    texts = [texts[i] for i in order]
    query_texts, base_texts = texts[:args.queries], texts[args.queries:]
    print(f"{len(texts)} distinct descriptions: {len(base_texts)} base, {len(query_texts)} held-out queries", file=sys.stderr)

    emb = embed(base_texts + query_texts, args.dim)
    base, queries = emb[:len(base_texts)], emb[len(base_texts):]
    source = np.arange(args.rows) % len(base_texts)
    noise = rng.standard_normal((args.rows, args.dim), dtype=np.float32) * (args.noise / np.sqrt(args.dim))
    x = base[source] + noise
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    x = x.astype(np.float32)
    np.save(os.path.join(args.out, "X.npy"), x)
    np.save(os.path.join(args.out, "Q.npy"), queries.astype(np.float32))
    np.save(os.path.join(args.out, "mine.npy"), x[:10_000].copy())
    with open(os.path.join(args.out, "texts.txt"), "w") as f:
        for i in source:
            f.write(base_texts[i] + "\n")
        for t in query_texts:
            f.write(t + "\n")
    print(f"wrote {args.out}/X.npy {x.shape}, Q.npy {queries.shape}, mine.npy (10000, {args.dim})", file=sys.stderr)


if __name__ == "__main__":
    main()
