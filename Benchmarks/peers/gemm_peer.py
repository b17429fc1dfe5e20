#!/usr/bin/env python3
"""GEMM GFLOP/s of a peer library (numpy/OpenBLAS or PyTorch) on the shapes of `siamese bench gemm`.

One process measures one library at one thread count: OpenBLAS and OpenMP read their thread
counts from the environment at load time, so the caller (Benchmarks/gemm.sh) starts a separate
process per thread count with OPENBLAS_NUM_THREADS / OMP_NUM_THREADS set. PyTorch additionally
gets torch.set_num_threads. Prints one JSON object per line, with the same keys and the same
timing rule as ours: warm-up, then blocks of at least 30 ms for at least 0.3 s; gflops is the
best block, gflops_median the median one; busy_others is the CPU (in cores) that other processes
used meanwhile.
"""
import argparse
import json
import os
import statistics
import sys
import time

# (m, k, n, batch): "A×B×C" in the issue reads M=A, K=B, N=C.
SHAPES = [
    (1024, 1024, 1024, 1),
    (2048, 2048, 2048, 1),
    (4096, 384, 1152, 1),
    (4096, 384, 1536, 1),
    (4096, 1536, 384, 1),
    (1000, 384, 10000, 1),
    (128, 32, 128, 384),
]


def busy_seconds():
    """Busy CPU seconds of the whole machine, from /proc/stat (None elsewhere)."""
    try:
        with open("/proc/stat") as f:
            v = [float(x) for x in f.readline().split()[1:9]]
    except OSError:
        return None
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / os.sysconf("SC_CLK_TCK")


def measure(run, flops, min_total=0.3, min_block=0.03):
    run()  # warm-up: first-touch of the output, thread start-up
    reps = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(reps):
            run()
        dt = time.perf_counter() - t0
        if dt >= min_block:
            break
        reps *= 2
    rates = [flops * reps / dt / 1e9]
    total = dt
    busy0, self0, wall0 = busy_seconds(), time.process_time(), time.perf_counter()
    while total < min_total or len(rates) < 5:
        t0 = time.perf_counter()
        for _ in range(reps):
            run()
        dt = time.perf_counter() - t0
        total += dt
        rates.append(flops * reps / dt / 1e9)
    others = None
    if busy0 is not None:
        others = max(0.0, ((busy_seconds() - busy0) - (time.process_time() - self0)) / (time.perf_counter() - wall0))
    return max(rates), statistics.median(rates), others


def numpy_case(m, k, n, batch):
    import numpy as np
    rng = np.random.default_rng(0)
    if batch == 1:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        c = np.empty((m, n), dtype=np.float32)
    else:
        a = rng.standard_normal((batch, m, k), dtype=np.float32)
        b = rng.standard_normal((batch, k, n), dtype=np.float32)
        c = np.empty((batch, m, n), dtype=np.float32)
    return lambda: np.matmul(a, b, out=c)


def torch_case(m, k, n, batch):
    import torch
    g = torch.Generator().manual_seed(0)
    if batch == 1:
        a = torch.randn(m, k, generator=g)
        b = torch.randn(k, n, generator=g)
        c = torch.empty(m, n)
        return lambda: torch.matmul(a, b, out=c)
    a = torch.randn(batch, m, k, generator=g)
    b = torch.randn(batch, k, n, generator=g)
    c = torch.empty(batch, m, n)
    return lambda: torch.bmm(a, b, out=c)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lib", choices=["numpy", "torch"], required=True)
    p.add_argument("--threads", type=int, required=True,
                   help="must match OPENBLAS_NUM_THREADS / OMP_NUM_THREADS of this process")
    args = p.parse_args()

    if args.lib == "torch":
        import torch
        torch.set_num_threads(args.threads)
        torch.set_grad_enabled(False)
        make = torch_case
    else:
        want = str(args.threads)
        if os.environ.get("OPENBLAS_NUM_THREADS") != want:
            print(f"gemm_peer: set OPENBLAS_NUM_THREADS={want} before starting this process", file=sys.stderr)
            sys.exit(2)
        make = numpy_case

    for m, k, n, batch in SHAPES:
        run = make(m, k, n, batch)
        best, med, others = measure(run, 2.0 * m * n * k * batch)
        print(json.dumps({"lib": args.lib, "m": m, "n": n, "k": k, "batch": batch,
                          "threads": args.threads, "gflops": round(best, 2),
                          "gflops_median": round(med, 2),
                          "busy_others": None if others is None else round(others, 2)}), flush=True)


if __name__ == "__main__":
    main()
