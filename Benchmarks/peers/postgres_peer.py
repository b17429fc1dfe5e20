#!/usr/bin/env python3
"""The PostgreSQL + pgvector peer of Benchmarks/postgres.sh: psycopg 3 with pgvector's adapter.

  postgres_peer.py truth  --data DIR [--k 10]
        exact top-k (cosine, float64) of Q.npy against X.npy -> DIR/truth_pg.npy
  postgres_peer.py load   --url URL --data DIR [--rows N] [--m 16] [--ef-construction 64]
        COPY (binary) of X.npy into a fresh table peer_items(id text, metadata jsonb, embedding vector(d)),
        then CREATE INDEX … USING hnsw (embedding vector_cosine_ops); prints one JSON line with the
        COPY's rows/s and the index build's seconds
  postgres_peer.py search --url URL --data DIR --table T --ef 40 100 200 [--queries N] [--column embedding]
        the same SQL a raw client sends (`ORDER BY embedding <=> $1 LIMIT k`, hnsw.ef_search set),
        one connection, one query after another; one JSON line per ef: queries/s, recall@k
  postgres_peer.py http   --port P --data DIR --ef 40 100 200 [--queries N]
        siamese serve's POST /v1/search with {"vector": …, "k", "ef"} over one keep-alive
        connection, one query after another; one JSON line per ef (the client is this script, so
        its JSON work is counted against the service)

  postgres_peer.py replicas --ports P [P …] --data DIR [--clients 4] [--ef 100] [--queries N]
        the same POST /v1/search from --clients concurrent clients (threads, one keep-alive
        connection each), client c talking to replica c mod len(ports): total queries/s, recall@k

Rows are the ids "r<i>" of X.npy's row i; metadata {"group": i % 16, "copy": i // base}.
"""
import argparse
import http.client
import json
import os
import sys
import time

import numpy as np


def load_data(data, rows=None):
    x = np.load(os.path.join(data, "X.npy"), mmap_mode="r")
    if rows:
        x = x[:rows]
    return x


def truth(args):
    x = load_data(args.data)
    q = np.load(os.path.join(args.data, "Q.npy")).astype(np.float64)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    best_s = np.full((len(q), args.k), -np.inf)
    best_i = np.zeros((len(q), args.k), dtype=np.int64)
    step = 100_000
    for start in range(0, len(x), step):
        chunk = np.asarray(x[start:start + step], dtype=np.float64)
        chunk /= np.linalg.norm(chunk, axis=1, keepdims=True)
        s = q @ chunk.T
        idx = np.argpartition(-s, args.k, axis=1)[:, :args.k]
        cs = np.take_along_axis(s, idx, axis=1)
        all_s = np.concatenate([best_s, cs], axis=1)
        all_i = np.concatenate([best_i, idx + start], axis=1)
        order = np.argsort(-all_s, axis=1)[:, :args.k]
        best_s = np.take_along_axis(all_s, order, axis=1)
        best_i = np.take_along_axis(all_i, order, axis=1)
    np.save(os.path.join(args.data, "truth_pg.npy"), best_i)
    print(json.dumps({"truth": len(q), "k": args.k}))


def connect(url):
    import psycopg
    from pgvector.psycopg import register_vector
    conn = psycopg.connect(url, autocommit=True)
    conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    register_vector(conn)
    return conn


def load(args):
    x = load_data(args.data, args.rows)
    n, d = x.shape
    base = 10_000
    conn = connect(args.url)
    conn.execute("DROP TABLE IF EXISTS peer_items")
    conn.execute(f"CREATE TABLE peer_items (id text PRIMARY KEY, metadata jsonb, embedding vector({d}))")
    start = time.perf_counter()
    with conn.cursor() as cur:
        with cur.copy("COPY peer_items (id, metadata, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["text", "jsonb", "vector"])
            step = 10_000
            for s in range(0, n, step):
                block = np.asarray(x[s:s + step], dtype=np.float32)
                for j in range(len(block)):
                    i = s + j
                    copy.write_row((f"r{i}", json.dumps({"group": i % 16, "copy": i // base}), block[j]))
    load_s = time.perf_counter() - start
    if args.no_index:
        print(json.dumps({"lib": "psycopg", "kind": "load", "rows": n, "copy_s": load_s, "rows_per_s": n / load_s}))
        return
    conn.execute(f"SET maintenance_work_mem = '{args.maintenance_work_mem}'")
    conn.execute(f"SET max_parallel_maintenance_workers = {args.parallel_workers}")
    start = time.perf_counter()
    conn.execute(f"CREATE INDEX peer_items_hnsw ON peer_items USING hnsw (embedding vector_cosine_ops) "
                 f"WITH (m = {args.m}, ef_construction = {args.ef_construction})")
    index_s = time.perf_counter() - start
    print(json.dumps({"lib": "psycopg", "kind": "load", "rows": n, "copy_s": load_s, "rows_per_s": n / load_s,
                      "hnsw_build_s": index_s, "m": args.m, "ef_construction": args.ef_construction}))


def recall(found, truth_rows, k):
    return float(np.mean([len(set(f[:k]) & set(t[:k].tolist())) / k for f, t in zip(found, truth_rows)]))


def row_of(id_text):
    return int(id_text[1:]) if id_text.startswith("r") else -1


def search(args):
    q = np.load(os.path.join(args.data, "Q.npy"))[:args.queries]
    t = np.load(os.path.join(args.data, "truth_pg.npy"))[:args.queries]
    conn = connect(args.url)
    sql = f"SELECT id FROM {args.table} ORDER BY {args.column} <=> %s LIMIT %s"
    for ef in args.ef:
        conn.execute(f"SET hnsw.ef_search = {int(ef)}")
        for v in q[:10]:  # warm-up: the index pages into the cache
            conn.execute(sql, (v, args.k)).fetchall()
        found = []
        start = time.perf_counter()
        for v in q:
            found.append([row_of(r[0]) for r in conn.execute(sql, (v, args.k)).fetchall()])
        s = time.perf_counter() - start
        print(json.dumps({"lib": "psycopg", "kind": "search", "table": args.table, "ef": ef, "queries": len(q),
                          "qps": len(q) / s, "recall": recall(found, t, args.k)}), flush=True)


def http_search(args):
    q = np.load(os.path.join(args.data, "Q.npy"))[:args.queries]
    t = np.load(os.path.join(args.data, "truth_pg.npy"))[:args.queries]
    conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=120)
    bodies = [json.dumps({"vector": [float(a) for a in v], "k": args.k}) for v in q]

    def ask(body_text):
        conn.request("POST", "/v1/search", body=body_text, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        payload = r.read()
        if r.status != 200:
            sys.exit(f"/v1/search answered {r.status}: {payload[:300]!r}")
        return [row_of(h["id"]) for h in json.loads(payload)["results"]]

    for ef in args.ef:
        with_ef = [b[:-1] + f', "ef": {int(ef)}}}' for b in bodies]
        for b in with_ef[:10]:
            ask(b)
        start = time.perf_counter()
        found = [ask(b) for b in with_ef]
        s = time.perf_counter() - start
        print(json.dumps({"lib": "ours", "kind": "http", "ef": ef, "queries": len(q), "qps": len(q) / s,
                          "recall": recall(found, t, args.k)}), flush=True)


def replicas(args):
    import threading
    q = np.load(os.path.join(args.data, "Q.npy"))[:args.queries]
    t = np.load(os.path.join(args.data, "truth_pg.npy"))[:args.queries]
    bodies = [json.dumps({"vector": [float(a) for a in v], "k": args.k, "ef": args.ef}) for v in q]
    found = [None] * len(bodies)
    errors = []

    def client(c):
        conn = http.client.HTTPConnection("127.0.0.1", args.ports[c % len(args.ports)], timeout=120)
        for i in range(c, len(bodies), args.clients):
            conn.request("POST", "/v1/search", body=bodies[i], headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            payload = r.read()
            if r.status != 200:
                errors.append(f"{r.status}: {payload[:200]!r}")
                return
            found[i] = [row_of(h["id"]) for h in json.loads(payload)["results"]]

    warm = [threading.Thread(target=client, args=(c,)) for c in range(args.clients)]
    for th in warm: th.start()
    for th in warm: th.join()
    threads = [threading.Thread(target=client, args=(c,)) for c in range(args.clients)]
    start = time.perf_counter()
    for th in threads: th.start()
    for th in threads: th.join()
    s = time.perf_counter() - start
    if errors:
        sys.exit(f"/v1/search failed: {errors[0]}")
    print(json.dumps({"lib": "ours", "kind": "replicas", "replicas": len(args.ports), "clients": args.clients, "ef": args.ef,
                      "queries": len(q), "qps": len(q) / s, "recall": recall(found, t, args.k)}), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("truth"); a.add_argument("--data", required=True); a.add_argument("--k", type=int, default=10)
    a = sub.add_parser("load")
    a.add_argument("--url", required=True); a.add_argument("--data", required=True); a.add_argument("--rows", type=int)
    a.add_argument("--m", type=int, default=16); a.add_argument("--ef-construction", type=int, default=64)
    a.add_argument("--maintenance-work-mem", default="3GB"); a.add_argument("--parallel-workers", type=int, default=1)
    a.add_argument("--no-index", action="store_true", help="copy the rows only, no CREATE INDEX")
    a = sub.add_parser("search")
    a.add_argument("--url", required=True); a.add_argument("--data", required=True); a.add_argument("--table", default="peer_items")
    a.add_argument("--column", default="embedding"); a.add_argument("--ef", type=int, nargs="+", default=[40, 100, 200])
    a.add_argument("--queries", type=int, default=1000); a.add_argument("--k", type=int, default=10)
    a = sub.add_parser("http")
    a.add_argument("--port", type=int, required=True); a.add_argument("--data", required=True)
    a.add_argument("--ef", type=int, nargs="+", default=[40, 100, 200])
    a.add_argument("--queries", type=int, default=1000); a.add_argument("--k", type=int, default=10)
    a = sub.add_parser("replicas")
    a.add_argument("--ports", type=int, nargs="+", required=True); a.add_argument("--data", required=True)
    a.add_argument("--clients", type=int, default=4); a.add_argument("--ef", type=int, default=100)
    a.add_argument("--queries", type=int, default=1000); a.add_argument("--k", type=int, default=10)
    args = p.parse_args()
    {"truth": truth, "load": load, "search": search, "http": http_search, "replicas": replicas}[args.cmd](args)


if __name__ == "__main__":
    main()
