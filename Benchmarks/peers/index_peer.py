#!/usr/bin/env python3
"""Vector-search peers on the benchmark corpus (Benchmarks/peers/index_data.py), one library per
process so that thread settings made through the environment apply from the start.

  index_peer.py truth   --data DIR                   exact top-10 of Q in X (numpy, float64 check) → DIR/truth.npy
  index_peer.py faiss   --data DIR --threads 2        IndexFlatIP, batched queries
  index_peer.py hnswlib --data DIR --build-threads 2  M=16, ef_construction=200; queries at 1 thread, ef sweep
  index_peer.py mining  --data DIR --threads 2        sentence-transformers paraphrase_mining_embeddings, top-10

Prints one JSON object per measurement. Query rates are the best of several timed runs after a
warm-up; recall@10 is against DIR/truth.npy.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

K = 10


def load(data):
    return np.load(os.path.join(data, "X.npy")), np.load(os.path.join(data, "Q.npy"))


def recall(found, truth):
    hits = sum(len(set(f[:K]) & set(t[:K])) for f, t in zip(found, truth))
    return hits / truth[:, :K].size


def best_time(run, repeats):
    run()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return best


def truth(args):
    x, q = load(args.data)
    scores = q.astype(np.float64) @ x.astype(np.float64).T
    ids = np.argsort(-scores, axis=1, kind="stable")[:, :100].astype(np.int64)
    np.save(os.path.join(args.data, "truth.npy"), ids)
    print(json.dumps({"lib": "truth", "queries": len(q), "rows": len(x)}))


def faiss_flat(args):
    import faiss
    faiss.omp_set_num_threads(args.threads)
    x, q = load(args.data)
    gt = np.load(os.path.join(args.data, "truth.npy"))
    t0 = time.perf_counter()
    index = faiss.IndexFlatIP(x.shape[1])
    index.add(x)
    build = time.perf_counter() - t0
    out = {}
    def run():
        out["ids"] = index.search(q, K)[1]
    seconds = best_time(run, args.repeats)
    print(json.dumps({"lib": "faiss", "kind": "flat", "threads": args.threads, "build_s": build, "queries": len(q),
                      "seconds": seconds, "qps": len(q) / seconds, "recall": recall(out["ids"], gt)}))


def hnsw(args):
    import hnswlib
    x, q = load(args.data)
    gt = np.load(os.path.join(args.data, "truth.npy"))
    index = hnswlib.Index(space="ip", dim=x.shape[1])
    t0 = time.perf_counter()
    index.init_index(max_elements=len(x), M=args.m, ef_construction=args.ef_construction, random_seed=100)
    index.add_items(x, np.arange(len(x)), num_threads=args.build_threads)
    build = time.perf_counter() - t0
    print(json.dumps({"lib": "hnswlib", "kind": "build", "threads": args.build_threads, "m": args.m,
                      "ef_construction": args.ef_construction, "build_s": build}))
    sys.stdout.flush()
    index.set_num_threads(1)
    for ef in args.ef:
        index.set_ef(ef)
        out = {}
        def run():
            out["ids"] = index.knn_query(q, k=K, num_threads=1)[0]
        seconds = best_time(run, args.repeats)
        print(json.dumps({"lib": "hnswlib", "kind": "search", "ef": ef, "threads": 1, "queries": len(q),
                          "seconds": seconds, "qps": len(q) / seconds, "recall": recall(out["ids"].astype(np.int64), gt)}))
        sys.stdout.flush()


def mining(args):
    import torch
    from sentence_transformers import util
    torch.set_num_threads(args.threads)
    e = torch.from_numpy(np.load(os.path.join(args.data, "mine.npy")))
    out = {}
    def run():
        out["pairs"] = util.paraphrase_mining_embeddings(e, top_k=K)
    seconds = best_time(run, args.repeats)
    pairs = out["pairs"]
    with open(os.path.join(args.data, "mining_peer.jsonl"), "w") as f:
        for s, a, b in pairs:
            f.write(json.dumps({"a": int(min(a, b)), "b": int(max(a, b)), "score": float(s)}) + "\n")
    print(json.dumps({"lib": "sentence-transformers", "kind": "paraphrase_mining", "threads": args.threads, "rows": len(e),
                      "top_k": K, "seconds": seconds, "pairs": len(pairs)}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["truth", "faiss", "hnswlib", "mining"])
    ap.add_argument("--data", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--build-threads", type=int, default=2)
    ap.add_argument("--m", type=int, default=16)
    ap.add_argument("--ef-construction", type=int, default=200)
    ap.add_argument("--ef", type=int, nargs="+", default=[32, 64, 96, 128, 192, 256])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    {"truth": truth, "faiss": faiss_flat, "hnswlib": hnsw, "mining": mining}[args.what](args)


if __name__ == "__main__":
    main()
