"""PyTorch peer for the Siamese training benchmark: the same encoders, losses, optimiser, batch
size, epochs and data as `siamese train`, timed the same way (training steps only).

usage: train_peer.py TRAIN.csv TEST.csv ENCODER(mlp|cnn) LOSS(contrastive|triplet) THREADS EPOCHS
prints one JSON object: steps, seconds, steps_per_s and the test metrics.
env SEED (default 0) seeds the initialisation and the sampling (multi-seed runs: seeds.sh).
"""
import csv
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from metrics import evaluate  # noqa: E402


def load(path):
    with open(path) as f:
        r = csv.reader(f)
        header = next(r)
        rows = [list(map(float, row)) for row in r]
    a = np.array(rows, dtype=np.float32)
    return a[:, :-1], a[:, -1].astype(int)


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(
            torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 64), torch.nn.ReLU(), torch.nn.Linear(64, 32))

    def forward(self, x):
        return F.normalize(self.net(x), dim=1)


class CNN(torch.nn.Module):
    """Conv 3x3 (no bias) -> BN -> ReLU -> 2x2 max-pool, twice (16, 32 channels), then Linear -> 32."""
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, 3, padding=1, bias=False), torch.nn.BatchNorm2d(16), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(16, 32, 3, padding=1, bias=False), torch.nn.BatchNorm2d(32), torch.nn.ReLU(), torch.nn.MaxPool2d(2))
        self.head = torch.nn.Linear(32 * 2 * 2, 32)

    def forward(self, x):
        return F.normalize(self.head(self.features(x.view(-1, 1, 8, 8)).flatten(1)), dim=1)


def contrastive(a, b, same, margin=0.5):
    d = 1 - F.cosine_similarity(a, b)
    return 0.5 * (same * d.pow(2) + (1 - same) * F.relu(margin - d).pow(2)).mean()


def batch_hard(e, labels, margin=0.3):
    d = 1 - e @ e.T
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool)
    pos = same & ~eye
    neg = ~same
    hardest_pos = (d * pos).max(dim=1).values
    hardest_neg = d.masked_fill(~neg, float("inf")).min(dim=1).values
    valid = pos.any(1) & neg.any(1)
    return F.relu(hardest_pos - hardest_neg + margin)[valid].mean()


def pairs(labels, rng):
    by_class = {c: np.flatnonzero(labels == c) for c in np.unique(labels)}
    n = len(labels)
    out = []
    for k in range(n):
        a = rng.integers(n)
        if k < n // 2:
            b = rng.choice(by_class[labels[a]])
            while b == a:
                b = rng.choice(by_class[labels[a]])
            out.append((a, b, 1.0))
        else:
            b = rng.integers(n)
            while labels[b] == labels[a]:
                b = rng.integers(n)
            out.append((a, b, 0.0))
    rng.shuffle(out)
    return out


def m_per_class(labels, rng, batch=128):
    classes = np.unique(labels)
    m = max(2, batch // len(classes))  # as `siamese train` picks it
    per = min(batch // m, len(classes))
    batches = []
    for _ in range(max(1, len(labels) // (per * m))):
        chosen = rng.choice(classes, per, replace=False)
        idx = np.concatenate([rng.choice(np.flatnonzero(labels == c), m, replace=len(np.flatnonzero(labels == c)) < m) for c in chosen])
        batches.append(idx)
    return batches


def main():
    train_csv, test_csv, encoder, loss, threads, epochs = sys.argv[1:7]
    threads, epochs = int(threads), int(epochs)
    torch.set_num_threads(threads)
    seed = int(os.environ.get("SEED", "0"))
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    xtr, ytr = load(train_csv)
    xte, yte = load(test_csv)
    X, Y = torch.from_numpy(xtr), torch.from_numpy(ytr)
    model = MLP() if encoder == "mlp" else CNN()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    steps, seconds = 0, 0.0
    for epoch in range(epochs):
        model.train()
        if loss == "contrastive":
            p = pairs(ytr, rng)
            batches = [p[i:i + 128] for i in range(0, len(p), 128)]
        else:
            batches = m_per_class(ytr, rng)
        for b in batches:
            t0 = time.perf_counter()
            opt.zero_grad()
            if loss == "contrastive":
                ia = torch.tensor([q[0] for q in b]); ib = torch.tensor([q[1] for q in b])
                same = torch.tensor([q[2] for q in b])
                e = model(torch.cat([X[ia], X[ib]]))
                value = contrastive(e[:len(b)], e[len(b):], same)
            else:
                idx = torch.from_numpy(b)
                value = batch_hard(model(X[idx]), Y[idx])
            value.backward()
            opt.step()
            seconds += time.perf_counter() - t0
            steps += 1
    model.eval()
    with torch.no_grad():
        emb = model(torch.from_numpy(xte)).numpy()
    result = {"system": "pytorch " + torch.__version__, "steps": steps, "seconds": seconds, "steps_per_s": steps / seconds}
    result.update(evaluate(emb, yte))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
