"""PyTorch peer for `siamese bench train-step`: forward + backward + Adam on a 64-128-64-32 MLP.

Prints one JSON line per thread count, with the same keys as ours.
"""
import json
import sys
import time

import torch


def measure(threads: int, steps: int, batch: int) -> dict:
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 32),
    )
    x = torch.randn(batch, 64)
    target = torch.randn(batch, 32)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        loss = ((model(x) - target) ** 2).mean()
        loss.backward()
        opt.step()

    for _ in range(200):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    return {"model": "mlp-64-128-64-32", "batch": batch, "threads": threads,
            "median_ms": times[len(times) // 2], "best_ms": times[0], "peer": "torch " + torch.__version__}


if __name__ == "__main__":
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    print(json.dumps(measure(threads, steps, 128)))
