#!/usr/bin/env python3
"""Builds the vector-search benchmark data from real sentence embeddings.

Input: E.npy, the all-MiniLM-L6-v2 embeddings (made by `siamese embed`) of a corpus of real
sentences (Debian package descriptions, `text_peer.py corpus`): the first --base rows are the
base sentences, the next --queries rows the held-out queries.

Output (float32 .npy, rows L2-normalised):
  X.npy     --rows × dim: the base embeddings cycled (copy c of sentence i is row c·base + i),
            each copy with its own small Gaussian noise (norm about --noise), re-normalised
  Q.npy     --queries × dim: the held-out sentences' embeddings (none of them is in X), no noise
  mine.npy  --base × dim: the base embeddings themselves (paraphrase mining)

  index_data.py --embeddings E.npy --out DIR [--base 10000] [--queries 1000] [--rows 100000] [--noise 0.15]
  index_data.py corpus OUT.txt --count N     (fallback sentence extractor when text_peer.py is missing)
"""
import argparse
import os
import subprocess
import sys

import numpy as np


def corpus(out, count):
    """Debian package summaries from `apt-cache dumpavail`, deduplicated, in a fixed shuffled order."""
    text = subprocess.run(["apt-cache", "dumpavail"], check=True, capture_output=True, text=True).stdout
    seen, package = set(), None
    for line in text.splitlines():
        if line.startswith("Package: "):
            package = line[len("Package: "):].strip()
        elif line.startswith("Description: ") and package:
            seen.add(f"{package}: {line[len('Description: '):].strip()}")
    lines = sorted(seen)
    if len(lines) < count:
        sys.exit(f"only {len(lines)} package descriptions available (run apt-get update?)")
    np.random.default_rng(20261124).shuffle(lines)
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines[:count]) + "\n")


def build(args):
    e = np.load(args.embeddings).astype(np.float32)
    need = args.base + args.queries
    if e.ndim != 2 or len(e) < need:
        sys.exit(f"{args.embeddings}: need at least {need} rows of embeddings, found shape {e.shape}")
    e /= np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
    base, queries = e[:args.base], e[args.base:need]
    dim = e.shape[1]
    rng = np.random.default_rng(20261124)
    source = np.arange(args.rows) % args.base
    noise = rng.standard_normal((args.rows, dim), dtype=np.float32) * np.float32(args.noise / np.sqrt(dim))
    x = base[source] + noise
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    os.makedirs(args.out, exist_ok=True)
    np.save(os.path.join(args.out, "X.npy"), x.astype(np.float32))
    np.save(os.path.join(args.out, "Q.npy"), queries.astype(np.float32))
    np.save(os.path.join(args.out, "mine.npy"), base.astype(np.float32))
    # How hard the data is: a query's best base sentence, and how close copies stay to their source.
    best = (queries @ base.T).max(axis=1)
    copy = np.einsum("ij,ij->i", x[:args.base * 2], base[source[:args.base * 2]])
    print(f"wrote {args.out}: X {x.shape}, Q {queries.shape}, mine {base.shape}; query→nearest base cosine "
          f"median {np.median(best):.3f}, copy→source cosine median {np.median(copy):.4f}", file=sys.stderr)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "corpus":
        ap = argparse.ArgumentParser()
        ap.add_argument("what")
        ap.add_argument("out")
        ap.add_argument("--count", type=int, default=11_000)
        a = ap.parse_args()
        corpus(a.out, a.count)
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--embeddings", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--base", type=int, default=10_000)
    ap.add_argument("--queries", type=int, default=1_000)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--noise", type=float, default=0.15, help="norm of the noise added to each copy")
    build(ap.parse_args())


if __name__ == "__main__":
    main()
