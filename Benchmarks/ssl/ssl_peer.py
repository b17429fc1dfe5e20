#!/usr/bin/env python3
"""The lightly + PyTorch side of Benchmarks/ssl_fashion_mnist.sh: the same small CNN, heads of the
same sizes, lightly's loss classes and heads, augmentations with the same parameters as ours
(written in torch here, same distributions, not the same random numbers), the same batch size,
epochs, optimiser and schedule. Prints one JSON line: steps/s (training steps only) and the
train/test embeddings' paths, which the shell script then scores with `siamese evaluate-retrieval`
for both systems.

Usage: ssl_peer.py METHOD TRAIN.npy TEST.npy OUT_DIR EPOCHS BATCH SEED THREADS
"""
import copy
import json
import math
import os
import sys
import time
import types

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# lightly imports torchvision for modules we do not use (see Benchmarks/reference/ssl_losses_reference.py).
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "reference"))
import ssl_losses_reference as ref  # noqa: E402  (installs the placeholders and imports lightly's losses)
from lightly.models.modules import heads  # noqa: E402

method, train_path, test_path, out_dir = sys.argv[1:5]
epochs, batch, seed, threads = map(int, sys.argv[5:9])
lr = float(sys.argv[9]) if len(sys.argv) > 9 else (1e-3 if method == "dino" else 0.06)
torch.set_default_dtype(torch.float32)
torch.set_num_threads(threads)
torch.manual_seed(seed)
g = torch.Generator().manual_seed(seed)
X = torch.from_numpy(np.load(train_path)).float().reshape(-1, 1, 28, 28)
N = X.shape[0]
DIM, HIDDEN, PROJ, DINO_DIM = 64, 512, 128, 1024


def backbone():
    # Ours: CNNEncoder(blocks 32,64, kernel 3, batch norm, no bias before BN) → flatten → Linear(64·7·7 → 64).
    return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(64 * 7 * 7, DIM))


def augment(x, crop_scale=(0.08, 1.0), blur_p=0.5, solarize_p=0.0):
    """Ours (ImageAugmentation defaults): random resized crop, flip 0.5, brightness/contrast 0.4 with
    p 0.8, blur σ∈[0.1,2] with blur_p, solarise with solarize_p."""
    n = x.shape[0]
    out = torch.empty_like(x)
    for i in range(n):
        img = x[i]
        for _ in range(10):
            area = 784 * float(torch.empty(1).uniform_(*crop_scale, generator=g))
            ratio = math.exp(float(torch.empty(1).uniform_(math.log(3 / 4), math.log(4 / 3), generator=g)))
            w, h = round(math.sqrt(area * ratio)), round(math.sqrt(area / ratio))
            if 0 < w <= 28 and 0 < h <= 28:
                top = int(torch.randint(0, 28 - h + 1, (1,), generator=g)); left = int(torch.randint(0, 28 - w + 1, (1,), generator=g))
                img = F.interpolate(img[None, :, top:top + h, left:left + w], size=(28, 28), mode="bilinear", align_corners=False)[0]
                break
        if float(torch.rand(1, generator=g)) < 0.5:
            img = img.flip(-1)
        if float(torch.rand(1, generator=g)) < 0.8:
            b = 1 + 0.4 * (2 * float(torch.rand(1, generator=g)) - 1)
            c = 1 + 0.4 * (2 * float(torch.rand(1, generator=g)) - 1)
            img = (img * b).clamp(0, 1)
            img = ((img - img.mean()) * c + img.mean()).clamp(0, 1)
        if float(torch.rand(1, generator=g)) < blur_p:
            sigma = 0.1 + 1.9 * float(torch.rand(1, generator=g))
            r = max(1, min(math.ceil(3 * sigma), 9))
            k = torch.exp(-torch.arange(-r, r + 1, dtype=torch.float32) ** 2 / (2 * sigma * sigma)); k = k / k.sum()
            p = F.pad(img[None], (r, r, r, r), mode="replicate")
            p = F.conv2d(p, k.view(1, 1, 1, -1)); img = F.conv2d(p, k.view(1, 1, -1, 1))[0]
        if float(torch.rand(1, generator=g)) < solarize_p:
            img = torch.where(img >= 0.5, 1 - img, img)
        out[i] = img
    return out


enc = backbone()
if method == "simclr":
    proj = heads.SimCLRProjectionHead(DIM, HIDDEN, PROJ); pred = None; loss_fn = ref.NTXentLoss(temperature=0.5)
elif method == "byol":
    proj = heads.BYOLProjectionHead(DIM, HIDDEN, PROJ); pred = heads.BYOLPredictionHead(PROJ, HIDDEN, PROJ); loss_fn = ref.NegativeCosineSimilarity()
elif method == "simsiam":
    proj = heads.SimSiamProjectionHead(DIM, HIDDEN, PROJ); pred = heads.SimSiamPredictionHead(PROJ, HIDDEN // 4, PROJ); loss_fn = ref.NegativeCosineSimilarity()
elif method == "barlow":
    proj = heads.BarlowTwinsProjectionHead(DIM, HIDDEN, PROJ); pred = None; loss_fn = ref.BarlowTwinsLoss()
elif method == "vicreg":
    proj = heads.BarlowTwinsProjectionHead(DIM, HIDDEN, PROJ); pred = None; loss_fn = ref.VICRegLoss()
elif method == "dino":
    proj = nn.Sequential(nn.Linear(DIM, HIDDEN), nn.GELU(), nn.Linear(HIDDEN, HIDDEN), nn.GELU(), nn.Linear(HIDDEN, PROJ))
    last = nn.Linear(PROJ, DINO_DIM, bias=False); pred = None; loss_fn = ref.DINOLoss(output_dim=DINO_DIM)
else:
    raise SystemExit(f"unknown method {method}")
student = nn.ModuleList([enc, proj] + ([pred] if pred is not None else []) + ([last] if method == "dino" else []))
teacher = copy.deepcopy(nn.ModuleList([enc, proj] + ([last] if method == "dino" else []))) if method in ("byol", "dino") else None
if teacher is not None:
    for p in teacher.parameters():
        p.requires_grad = False


def project(x, net):
    z = net[1](net[0](x))
    return net[-1](F.normalize(z, dim=1)) if method == "dino" else z


steps_per_epoch = N // batch
total = epochs * steps_per_epoch
opt = torch.optim.Adam(student.parameters(), lr=lr) if method == "dino" else torch.optim.SGD(student.parameters(), lr=lr, momentum=0.9)
base_lr = opt.param_groups[0]["lr"]
step_time, step = 0.0, 0
for epoch in range(epochs):
    order = torch.randperm(N, generator=g)
    for k in range(steps_per_epoch):
        idx = order[k * batch:(k + 1) * batch]
        x = X[idx]
        x0, x1 = augment(x), augment(x, blur_p=0.1, solarize_p=0.2)
        local = [augment(x, crop_scale=(0.05, 0.4)) for _ in range(2)] if method == "dino" else []
        start = time.perf_counter()
        for group in opt.param_groups:   # cosine decay, as ours (--schedule cosine, no warm-up)
            group["lr"] = base_lr * 0.5 * (1 + math.cos(math.pi * min(1.0, step / max(1, total))))
        if teacher is not None:
            m = 1.0 if total <= 1 or step >= total - 1 else 1 - (1 - 0.996) * (math.cos(math.pi * step / (total - 1)) + 1) / 2
            with torch.no_grad():
                for pt, ps in zip(teacher.parameters(), [p for mod in ([enc, proj] + ([last] if method == "dino" else [])) for p in mod.parameters()]):
                    pt.mul_(m).add_(ps, alpha=1 - m)
        if method in ("simclr", "barlow", "vicreg"):
            loss = loss_fn(project(x0, student), project(x1, student))
        elif method == "simsiam":
            z0, z1 = project(x0, student), project(x1, student)
            loss = 0.5 * (loss_fn(pred(z0), z1.detach()) + loss_fn(pred(z1), z0.detach()))
        elif method == "byol":
            p0, p1 = pred(project(x0, student)), pred(project(x1, student))
            with torch.no_grad():
                t0, t1 = project(x0, teacher), project(x1, teacher)
            loss = 0.5 * (loss_fn(p0, t1) + loss_fn(p1, t0))
        else:
            with torch.no_grad():
                t = [project(x0, teacher), project(x1, teacher)]
            loss = loss_fn(t, [project(v, student) for v in [x0, x1] + local])
        opt.zero_grad()
        loss.backward()
        opt.step()
        step_time += time.perf_counter() - start
        step += 1

enc.eval()
with torch.no_grad():
    for name, data in [("train", X), ("test", torch.from_numpy(np.load(test_path)).float().reshape(-1, 1, 28, 28))]:
        emb = torch.cat([enc(data[i:i + 1024]) for i in range(0, data.shape[0], 1024)]).numpy()
        np.save(os.path.join(out_dir, f"{name}.npy"), emb)
print(json.dumps({"system": "lightly", "method": method, "steps": step, "steps_per_s": step / step_time,
                  "final_loss": loss.item(), "out": out_dir}))
