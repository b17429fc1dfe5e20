#!/usr/bin/env python3
"""Vector-search peers on the benchmark corpus (Benchmarks/peers/index_data.py), one library per
process so that thread settings made through the environment apply from the start.

  index_peer.py truth   --data DIR                   exact top-10 of Q in X (numpy, float64 check) → DIR/truth.npy
  index_peer.py faiss   --data DIR --threads 2        IndexFlatIP, batched queries
  index_peer.py hnswlib --data DIR --build-threads 2  M=16, ef_construction=200; queries at 1 thread, ef sweep
  index_peer.py mining  --data DIR --threads 2 [--out PAIRS.jsonl]
                                                     sentence-transformers paraphrase_mining_embeddings, top-10
  index_peer.py table   --log RESULTS.jsonl --data DIR [--title T] [--note N]
                                                     the benchmark table from index.sh's measurements

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
    import resource
    index = hnswlib.Index(space="ip", dim=x.shape[1])
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    index.init_index(max_elements=len(x), M=args.m, ef_construction=args.ef_construction, random_seed=100)
    index.add_items(x, np.arange(len(x)), num_threads=args.build_threads)
    build = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    print(json.dumps({"lib": "hnswlib", "kind": "build", "threads": args.build_threads, "m": args.m,
                      "ef_construction": args.ef_construction, "build_s": build, "cpu_s": cpu}))
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
    with open(args.out or os.path.join(args.data, "mining_peer.jsonl"), "w") as f:
        for s, a, b in pairs:
            f.write(json.dumps({"a": int(min(a, b)), "b": int(max(a, b)), "score": float(s)}) + "\n")
    print(json.dumps({"lib": "sentence-transformers", "kind": "paraphrase_mining", "threads": args.threads, "rows": len(e),
                      "top_k": K, "seconds": seconds, "pairs": len(pairs),
                      "pairs_file": args.out or os.path.join(args.data, "mining_peer.jsonl")}))


def table(args):
    rows = [json.loads(l) for l in open(args.log) if l.startswith("{")]
    gt = np.load(os.path.join(args.data, "truth.npy"))

    def pick(lib, kind, **kw):
        for r in rows:
            if r["lib"] == lib and r["kind"] == kind and all(r.get(k) == v for k, v in kw.items()):
                return r
        return None

    def qps_at(curve, target):
        """Queries/s at a recall, interpolated linearly along an ef sweep (None outside it)."""
        pts = sorted(curve)
        if pts and abs(pts[-1][0] - target) < 1e-9:
            return pts[-1][1]
        for (r0, q0), (r1, q1) in zip(pts, pts[1:]):
            if r0 <= target <= r1:
                return q0 if r1 == r0 else q0 + (q1 - q0) * (target - r0) / (r1 - r0)
        return None

    def row(work, peer, ours, ratio, note):
        print(f"{work:<46} {peer:>12} {ours:>12} {ratio:>9}   {note}")

    print(f"\nVector search: 100,000 × 384 ({args.title}; 10,000 sentences × 10 noisy copies), "
          f"1,000 held-out queries, top-10")
    row("work", "peer", "ours", "ratio", "(ratio: ours faster when > 1; recall@10 peer / ours)")
    print("-" * 110)
    faiss, flat = pick("faiss", "flat"), pick("ours", "flat")
    if faiss and flat:
        fq = 1000 / flat["seconds"]
        row("exact batched, 2 threads (queries/s)", f"{faiss['qps']:.0f}", f"{fq:.0f}", f"{fq / faiss['qps']:.2f}×",
            f"FAISS IndexFlatIP; recall {faiss['recall']:.3f} / {recall(np.load(flat['ids']), gt):.3f}")
    hb, ob = pick("hnswlib", "build"), pick("ours", "build")
    if hb and ob:
        row("HNSW build M=16 efC=200, 2 threads (s)", f"{hb['build_s']:.1f}", f"{ob['build_s']:.1f}",
            f"{hb['build_s'] / ob['build_s']:.2f}×", "hnswlib")
        if hb.get("cpu_s") and ob.get("cpu_s"):
            row("HNSW build, CPU time user+sys (s)", f"{hb['cpu_s']:.1f}", f"{ob['cpu_s']:.1f}",
                f"{hb['cpu_s'] / ob['cpu_s']:.2f}×", "ours: whole process (loading and saving included)")
    efs = sorted(r["ef"] for r in rows if r["lib"] == "hnswlib" and r["kind"] == "search")
    sweep = []
    for ef in efs:
        p, o = pick("hnswlib", "search", ef=ef), pick("ours", "search", ef=ef)
        if p and o:
            sweep.append((ef, p["recall"], p["qps"], recall(np.load(o["ids"]), gt), 1000 / o["seconds"]))
    ours_curve = [(r, q) for _, _, _, r, q in sweep]
    peer_curve = [(r, q) for _, r, q, _, _ in sweep]
    for ef, pr, pq, orr, oq in sweep:
        if ef == 128:
            row("HNSW ef=128, 1 thread (queries/s)", f"{pq:.0f}", f"{oq:.0f}", f"{oq / pq:.2f}×", f"hnswlib; recall {pr:.3f} / {orr:.3f}")
            same = qps_at(ours_curve, pr)
            if same:
                row(f"HNSW at recall {pr:.3f}, 1 thread (queries/s)", f"{pq:.0f}", f"{same:.0f}", f"{same / pq:.2f}×",
                    "ours interpolated on its ef sweep at hnswlib's ef=128 recall")
    mp, mo = pick("sentence-transformers", "paraphrase_mining"), pick("ours", "mining")
    if mo:
        agree = ""
        if mp and os.path.exists(mp.get("pairs_file", "")):
            peer_pairs = {(json.loads(l)["a"], json.loads(l)["b"]) for l in open(mp["pairs_file"])}
            ours_pairs = {(json.loads(l)["a"], json.loads(l)["b"]) for l in open(mo["pairs_file"])}
            agree = f"; pairs {len(peer_pairs)} / {len(ours_pairs)}, {len(peer_pairs & ours_pairs) / max(1, len(peer_pairs)):.4f} of the peer's found"
        if mp:
            row("paraphrase mining 10,000 × 384, top-10, 2 thr (s)", f"{mp['seconds']:.3f}", f"{mo['seconds']:.3f}",
                f"{mp['seconds'] / mo['seconds']:.2f}×", "sentence-transformers paraphrase_mining_embeddings" + agree)
        else:
            row("paraphrase mining 10,000 × 384, top-10, 2 thr (s)", "-", f"{mo['seconds']:.3f}", "", "")

    print("\nHNSW ef sweep, queries at 1 thread (matched: ours interpolated at hnswlib's recall)")
    print(f"{'ef':>5} {'hnswlib recall':>15} {'hnswlib q/s':>12} {'ours recall':>12} {'ours q/s':>10} {'same ef':>8} {'matched':>8}")
    for ef, pr, pq, orr, oq in sweep:
        m = qps_at(ours_curve, pr)
        print(f"{ef:>5} {pr:>15.4f} {pq:>12.0f} {orr:>12.4f} {oq:>10.0f} {oq / pq:>7.2f}× {(f'{m / pq:.2f}×' if m else '-'):>8}")
    if args.note:
        print(f"\n{args.note}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["truth", "faiss", "hnswlib", "mining", "table"])
    ap.add_argument("--out", help="mining: where the peer's pairs go (default DIR/mining_peer.jsonl)")
    ap.add_argument("--log", help="table: index.sh's measurements")
    ap.add_argument("--title", default="real sentence embeddings")
    ap.add_argument("--note", default="")
    ap.add_argument("--data", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--build-threads", type=int, default=2)
    ap.add_argument("--m", type=int, default=16)
    ap.add_argument("--ef-construction", type=int, default=200)
    ap.add_argument("--ef", type=int, nargs="+", default=[32, 64, 96, 128, 192, 256])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    {"truth": truth, "faiss": faiss_flat, "hnswlib": hnsw, "mining": mining, "table": table}[args.what](args)


if __name__ == "__main__":
    main()
