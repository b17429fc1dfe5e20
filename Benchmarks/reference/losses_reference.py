#!/usr/bin/env python3
"""Reference values and gradients for the Siamese losses, computed once with PyTorch.

Writes Tests/SiameseTests/Fixtures/losses_reference.json, which the Swift tests
(Tests/SiameseTests/LossTests.swift) read. Run it from the repository root:

    python3 -m venv Benchmarks/.venv-losses
    Benchmarks/.venv-losses/bin/pip install torch==2.13.0 numpy pytorch-metric-learning sentence-transformers
    HF_HUB_OFFLINE=1 Benchmarks/.venv-losses/bin/python Benchmarks/reference/losses_reference.py

How the numbers are made
- Inputs are float32 samples from seeded generators; they are written to the JSON exactly (a
  float32 printed as a Python float round-trips), so Swift reads the very same inputs.
- Every reference value and gradient is computed in float64 by PyTorch autograd from a direct
  transcription of the formula our Swift loss documents (functions `ref_*` below). float64 makes
  the reference exact for our purpose: the tests then measure only the float32 error of our engine.
- Where a library defines the loss (sentence-transformers 6.x, pytorch-metric-learning 2.x,
  torch.nn.functional), the same inputs also go through the library's own class and the script
  asserts agreement (`crosscheck`), so the transcription cannot drift from the convention we claim
  to follow. Cases whose semantics deliberately differ from a library (documented in the Swift
  DocC comments, e.g. anchors without a negative) are not cross-checked against it.
- Hinge, max/min and mining decisions are discontinuous. Randomly drawn cases are redrawn until
  every decision quantity (hinge argument, gap between the chosen and the next candidate, distance
  to a mining threshold) is at least GAP away from its boundary, so float32 and float64 take the
  same branch and finite differences in the Swift tests (step 1e-3) never cross a kink.
"""

from __future__ import annotations

import json
import math
import os
import sys
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
warnings.filterwarnings("ignore")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

GAP = 1e-2  # minimum distance of every decision quantity from its boundary
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests" / "SiameseTests" / "Fixtures" / "losses_reference.json"

try:
    from sentence_transformers.sentence_transformer import losses as st_losses
    from sentence_transformers import util as st_util
    import sentence_transformers
    ST_VERSION = sentence_transformers.__version__
except Exception:  # noqa: BLE001 - the cross-checks are optional, the references are not
    st_losses = None
    ST_VERSION = None
try:
    import pytorch_metric_learning
    from pytorch_metric_learning import losses as pml_losses, miners as pml_miners, distances as pml_distances, reducers as pml_reducers
    PML_VERSION = pytorch_metric_learning.__version__
except Exception:  # noqa: BLE001
    pml_losses = None
    PML_VERSION = None


# ----------------------------------------------------------------------------------------------
# Inputs


def sample(shape, seed, scale=1.0):
    """float32 normal samples (as float64 tensors holding float32 values)."""
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=g, dtype=torch.float32) * scale).to(torch.float64)


def clustered(labels, dim, seed, spread=0.1, separation=10.0):
    """Points near one far-apart centre per class: every triplet is easy."""
    g = torch.Generator().manual_seed(seed)
    classes = sorted(set(labels))
    centres = {c: torch.zeros(dim, dtype=torch.float32) for c in classes}
    for k, c in enumerate(classes):
        centres[c][k % dim] = separation * (1 + k // dim)
    pts = [centres[c] + spread * torch.randn(dim, generator=g, dtype=torch.float32) for c in labels]
    return torch.stack(pts).to(torch.float64)


def as_json(t):
    t = t.detach()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def f32(t):
    """Values rounded to float32 (inputs derived from other inputs must be float32 too)."""
    return t.to(torch.float32).to(torch.float64)


# ----------------------------------------------------------------------------------------------
# Distances (float64, transcriptions of Sources/Siamese/Comparison/Distance.swift)


def rowwise_distance(kind, a, b):
    if kind == "cosine":
        return 1 - (F.normalize(a, dim=1, eps=1e-12) * F.normalize(b, dim=1, eps=1e-12)).sum(1)
    if kind == "dot":
        return -(a * b).sum(1)
    if kind == "euclidean":
        return ((a - b) ** 2).sum(1).sqrt()
    if kind == "squared_euclidean":
        return ((a - b) ** 2).sum(1)
    raise ValueError(kind)


def pairwise_distance(kind, x):
    """n×n distances; the Euclidean diagonal is 0 without a NaN gradient (it is never used)."""
    n = x.shape[0]
    if kind == "cosine":
        xn = F.normalize(x, dim=1, eps=1e-12)
        return 1 - xn @ xn.T
    if kind == "dot":
        return -(x @ x.T)
    sq = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    if kind == "squared_euclidean":
        return sq
    eye = torch.eye(n, dtype=torch.bool)
    safe = torch.where(eye, torch.ones_like(sq), sq)
    return torch.where(eye, torch.zeros_like(sq), safe.sqrt())


def similarity_matrix(kind, a, b):
    if kind == "cosine":
        return F.normalize(a, dim=1, eps=1e-12) @ F.normalize(b, dim=1, eps=1e-12).T
    if kind == "dot":
        return a @ b.T
    raise ValueError(kind)


def reduce(losses, reduction):
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    if reduction == "none":
        return losses
    raise ValueError(reduction)


# ----------------------------------------------------------------------------------------------
# References. Each returns (value, counts or None, decision quantities that must stay ≥ GAP away
# from 0).


def ref_contrastive(t, p):
    a, b, y = t["a"], t["b"], p["labels"]
    y = torch.tensor(y)
    d = rowwise_distance(p["distance"], a, b)
    m = p["margin"]
    losses = y * d**2 + (1 - y) * F.relu(m - d) ** 2
    if p["halved"]:
        losses = 0.5 * losses
    gaps = [float(m - d[i]) for i in range(len(y)) if y[i] < 1]
    return reduce(losses, p["reduction"]), None, gaps


def mine_hard_pairs(d, y):
    """sentence-transformers OnlineContrastiveLoss selection (6.x)."""
    d = d.detach()
    pos = [i for i in range(len(y)) if y[i] == 1]
    neg = [i for i in range(len(y)) if y[i] == 0]
    poss, negs = d[pos], d[neg]
    neg_threshold = poss.max() if len(pos) else (negs.mean() if len(neg) else float("nan"))
    pos_threshold = negs.min() if len(neg) else (poss.mean() if len(pos) else float("nan"))
    hard_neg = [i for i in neg if d[i] < neg_threshold]
    hard_pos = [i for i in pos if d[i] > pos_threshold]
    gaps = [float(d[i] - neg_threshold) for i in neg] + [float(d[i] - pos_threshold) for i in pos]
    # Where the threshold is the chosen sample itself (its own max/min), the strict comparison
    # excludes it exactly; that is not a rounding-sensitive decision.
    gaps = [g for g in gaps if g != 0.0]
    return hard_pos, hard_neg, gaps


def ref_online_contrastive(t, p):
    a, b, y = t["a"], t["b"], p["labels"]
    d = rowwise_distance(p["distance"], a, b)
    m = p["margin"]
    hard_pos, hard_neg, gaps = mine_hard_pairs(d, y)
    per = torch.zeros(len(y))
    sel = torch.zeros(len(y))
    for i in hard_pos:
        sel[i] = 1
    for i in hard_neg:
        sel[i] = 1
    yt = torch.tensor(y)
    per = sel * (yt * d**2 + (1 - yt) * F.relu(m - d) ** 2)
    gaps += [float(m - d[i]) for i in hard_neg]
    r = p["reduction"]
    if r == "sum":
        value = per.sum()
    elif r == "mean":
        value = per.sum() / max(len(hard_pos) + len(hard_neg), 1)
    else:
        value = per
    return value, {"hard_positives": len(hard_pos), "hard_negatives": len(hard_neg)}, gaps


def ref_triplet(t, p):
    dist = p["distance"]
    dap = rowwise_distance(dist, t["anchor"], t["positive"])
    dan = rowwise_distance(dist, t["anchor"], t["negative"])
    v = dap - dan + p["margin"]
    return reduce(F.relu(v), p["reduction"]), None, v.tolist()


def valid_pairs(labels):
    n = len(labels)
    return [(a, q) for a in range(n) for q in range(n) if a != q and labels[a] == labels[q]]


def negatives_of(labels, a):
    return [k for k in range(len(labels)) if labels[k] != labels[a]]


def ref_batch_triplet(t, p):
    x, labels, m, strategy = t["embeddings"], p["labels"], p["margin"], p["strategy"]
    D = pairwise_distance(p["distance"], x)
    Dd = D.detach()
    gaps, terms = [], []
    if strategy == "batch-all":
        valid = 0
        for a, q in valid_pairs(labels):
            for k in negatives_of(labels, a):
                v = D[a, q] - D[a, k] + m
                terms.append(v)
                gaps.append(float(v))
                valid += 1
        active = sum(1 for v in terms if v > 0)
        total = sum((F.relu(v) for v in terms), torch.zeros(()))
        value = total / max(active, 1) + 0 * x.sum()
    elif strategy == "batch-hard":
        valid = 0
        for a in range(len(labels)):
            pos = [q for q in range(len(labels)) if q != a and labels[q] == labels[a]]
            neg = negatives_of(labels, a)
            if not pos or not neg:
                continue
            valid += 1
            pd = sorted(((float(Dd[a, q]), q) for q in pos), reverse=True)
            nd = sorted((float(Dd[a, k]), k) for k in neg)
            if len(pd) > 1:
                gaps.append(pd[0][0] - pd[1][0])
            if len(nd) > 1:
                gaps.append(nd[1][0] - nd[0][0])
            v = D[a, pd[0][1]] - D[a, nd[0][1]] + m
            terms.append(v)
            gaps.append(float(v))
        active = sum(1 for v in terms if v > 0)
        value = sum((F.relu(v) for v in terms), torch.zeros(())) / max(valid, 1) + 0 * x.sum()
    elif strategy == "semi-hard":
        valid = 0
        for a, q in valid_pairs(labels):
            neg = negatives_of(labels, a)
            if not neg:
                continue
            valid += 1
            dap = float(Dd[a, q])
            gaps += [float(Dd[a, k]) - dap for k in neg]
            outside = sorted((float(Dd[a, k]), k) for k in neg if Dd[a, k] > dap)
            if outside:
                chosen = outside[0][1]
                if len(outside) > 1:
                    gaps.append(outside[1][0] - outside[0][0])
            else:
                inside = sorted(((float(Dd[a, k]), k) for k in neg), reverse=True)
                chosen = inside[0][1]
                if len(inside) > 1:
                    gaps.append(inside[0][0] - inside[1][0])
            v = D[a, q] - D[a, chosen] + m
            terms.append(v)
            gaps.append(float(v))
        active = sum(1 for v in terms if v > 0)
        value = sum((F.relu(v) for v in terms), torch.zeros(())) / max(valid, 1) + 0 * x.sum()
    else:
        raise ValueError(strategy)
    return value, {"active": active, "valid": valid}, gaps


def ref_mnrl(t, p):
    A, P = t["anchors"], t["positives"]
    negs = [t[k] for k in sorted(t) if k.startswith("negatives")]
    n = A.shape[0]
    kind, scale = p["similarity"], p["scale"]
    if kind in ("cosine", "dot"):
        S = scale * similarity_matrix(kind, A, torch.cat([P] + negs))
    else:
        raise ValueError(kind)
    idx = torch.arange(n)
    fwd = torch.logsumexp(S, dim=1) - S[idx, idx]
    losses = fwd
    if p["symmetric"]:
        bwd = torch.logsumexp(S[:, :n], dim=0) - S[idx, idx]
        losses = (fwd + bwd) / 2
    return reduce(losses, p["reduction"]), None, []


def ref_cosent(t, p):
    a, b = t["a"], t["b"]
    y = torch.tensor(p["scores"])
    s = p["scale"] * (F.normalize(a, dim=1, eps=1e-12) * F.normalize(b, dim=1, eps=1e-12)).sum(1)
    diff = s[:, None] - s[None, :]
    mask = y[:, None] < y[None, :]
    flat = torch.cat([torch.zeros(1), diff[mask]])
    return torch.logsumexp(flat, dim=0), None, []


def ref_cosine_similarity(t, p):
    a, b = t["a"], t["b"]
    y = torch.tensor(p["scores"])
    c = (F.normalize(a, dim=1, eps=1e-12) * F.normalize(b, dim=1, eps=1e-12)).sum(1)
    return reduce((c - y) ** 2, p["reduction"]), None, []


def ref_bce_logits(t, p):
    y = torch.tensor(p["labels"]).reshape(t["logits"].shape)
    return F.binary_cross_entropy_with_logits(t["logits"], y, reduction=p["reduction"]), None, []


def ref_bce_probabilities(t, p):
    y = torch.tensor(p["labels"]).reshape(t["probabilities"].shape)
    return F.binary_cross_entropy(t["probabilities"], y, reduction=p["reduction"]), None, []


def head_logits(t, p):
    a, b = t["a"], t["b"]
    feats = (a - b).abs()
    if p["include_product"]:
        feats = torch.cat([feats, a * b], dim=1)
    return (feats @ t["weight"].T + t["bias"]).reshape(-1)


def ref_learned_head(t, p):
    z = head_logits(t, p)
    y = torch.tensor(p["labels"])
    gaps = [float(v) for v in (t["a"] - t["b"]).reshape(-1)]  # |a − b| has a kink at 0
    return F.binary_cross_entropy_with_logits(z, y), None, gaps


REFERENCES = {
    "contrastive": ref_contrastive,
    "online_contrastive": ref_online_contrastive,
    "triplet": ref_triplet,
    "batch_triplet": ref_batch_triplet,
    "mnrl": ref_mnrl,
    "cosent": ref_cosent,
    "cosine_similarity": ref_cosine_similarity,
    "bce_logits": ref_bce_logits,
    "bce_probabilities": ref_bce_probabilities,
    "learned_head": ref_learned_head,
}


# ----------------------------------------------------------------------------------------------
# Cross-checks against the libraries that define the losses


def st_distance(kind):
    m = st_losses.SiameseDistanceMetric
    return {"cosine": m.COSINE_DISTANCE, "euclidean": m.EUCLIDEAN}[kind]


def crosscheck(loss, t, p, value):
    """Returns a list of (library call, |difference|, tolerance)."""
    out = []

    def add(name, other, tol=1e-12):
        diff = float((value.detach() - other.detach()).abs().max())
        out.append((name, diff, tol))

    r = p.get("reduction", "mean")
    if loss == "contrastive" and st_losses and r in ("mean", "sum") and p["halved"] and p["distance"] in ("cosine", "euclidean"):
        # F.pairwise_distance adds eps=1e-6 to the difference, hence the looser tolerance for Euclidean.
        fn = st_losses.ContrastiveLoss(None, distance_metric=st_distance(p["distance"]), margin=p["margin"], size_average=(r == "mean"))
        add("sentence_transformers.ContrastiveLoss", fn.compute_loss_from_embeddings([t["a"], t["b"]], torch.tensor(p["labels"])),
            1e-12 if p["distance"] == "cosine" else 1e-4)
    if loss == "online_contrastive" and st_losses and r == "sum" and p["distance"] in ("cosine", "euclidean"):
        fn = st_losses.OnlineContrastiveLoss(None, distance_metric=st_distance(p["distance"]), margin=p["margin"])
        add("sentence_transformers.OnlineContrastiveLoss", fn.compute_loss_from_embeddings([t["a"], t["b"]], torch.tensor(p["labels"])),
            1e-12 if p["distance"] == "cosine" else 1e-4)
    if loss == "triplet" and r == "mean" and p["distance"] == "euclidean":
        fn = torch.nn.TripletMarginLoss(margin=p["margin"], p=2, eps=0.0)
        add("torch.nn.TripletMarginLoss(eps=0)", fn(t["anchor"], t["positive"], t["negative"]))
    if loss == "triplet" and st_losses and r == "mean" and p["distance"] == "cosine":
        fn = st_losses.TripletLoss(None, distance_metric=st_losses.TripletDistanceMetric.COSINE, triplet_margin=p["margin"])
        add("sentence_transformers.TripletLoss(COSINE)", fn.compute_loss_from_embeddings([t["anchor"], t["positive"], t["negative"]], None))
    if loss == "batch_triplet":
        x, labels = t["embeddings"], torch.tensor(p["labels"])
        every_anchor_valid = all(
            any(q != a and p["labels"][q] == p["labels"][a] for q in range(len(labels))) and negatives_of(p["labels"], a)
            for a in range(len(labels)))
        every_anchor_has_negative = all(negatives_of(p["labels"], a) for a in range(len(labels)))
        kind = p["distance"]
        if pml_losses and kind in ("euclidean", "cosine") and len(labels) > 1:
            dist = pml_distances.LpDistance(normalize_embeddings=False, p=2, power=1) if kind == "euclidean" else pml_distances.CosineSimilarity()
            if p["strategy"] == "batch-all":
                fn = pml_losses.TripletMarginLoss(margin=p["margin"], distance=dist)
                add("pytorch_metric_learning.TripletMarginLoss (all triplets, AvgNonZeroReducer)", fn(x, labels), 1e-9)
            if p["strategy"] == "batch-hard":
                fn = pml_losses.TripletMarginLoss(margin=p["margin"], distance=dist, reducer=pml_reducers.MeanReducer())
                miner = pml_miners.BatchHardMiner(distance=dist)
                add("pytorch_metric_learning.BatchHardMiner + TripletMarginLoss(MeanReducer)", fn(x, labels, miner(x, labels)), 1e-9)
        if st_losses and kind == "euclidean":
            if p["strategy"] == "batch-all":
                fn = st_losses.BatchAllTripletLoss(None, margin=p["margin"])
                add("sentence_transformers.BatchAllTripletLoss", fn.compute_loss_from_embeddings([x], labels), 1e-9)
            if p["strategy"] == "batch-hard" and every_anchor_valid:
                fn = st_losses.BatchHardTripletLoss(None, margin=p["margin"])
                add("sentence_transformers.BatchHardTripletLoss", fn.compute_loss_from_embeddings([x], labels), 1e-9)
            if p["strategy"] == "semi-hard" and every_anchor_has_negative:
                fn = st_losses.BatchSemiHardTripletLoss(None, margin=p["margin"])
                add("sentence_transformers.BatchSemiHardTripletLoss (TF-addons semantics)", fn.compute_loss_from_embeddings([x], labels), 1e-9)
    if loss == "mnrl" and st_losses and r == "mean":
        sim = {"cosine": st_util.cos_sim, "dot": st_util.dot_score}[p["similarity"]]
        negs = [t[k] for k in sorted(t) if k.startswith("negatives")]
        cls = st_losses.MultipleNegativesSymmetricRankingLoss if p["symmetric"] else st_losses.MultipleNegativesRankingLoss
        fn = cls(None, scale=p["scale"], similarity_fct=sim)
        add(f"sentence_transformers.{cls.__name__}", fn.compute_loss_from_embeddings([t["anchors"], t["positives"]] + negs, None))
    if loss == "cosent" and st_losses:
        fn = st_losses.CoSENTLoss(None, scale=p["scale"])
        add("sentence_transformers.CoSENTLoss", fn.compute_loss_from_embeddings([t["a"], t["b"]], torch.tensor(p["scores"])))
    if loss == "cosine_similarity" and st_losses and r == "mean":
        fn = st_losses.CosineSimilarityLoss(None)
        add("sentence_transformers.CosineSimilarityLoss", fn.compute_loss_from_embeddings([t["a"], t["b"]], torch.tensor(p["scores"])))
    if loss == "bce_logits":
        y = torch.tensor(p["labels"]).reshape(t["logits"].shape)
        z = t["logits"]
        manual = torch.clamp(z, min=0) - z * y + torch.log1p(torch.exp(-z.abs()))  # the formula our Swift code uses
        add("max(z,0) − z·y + log1p(e^−|z|)", reduce(manual, p["reduction"]))
    return out


# ----------------------------------------------------------------------------------------------
# Cases


CASES = []


def case(name, loss, params, make, seed=0, draw=False):
    """`make(seed)` returns the differentiable input tensors; when `draw`, seeds are tried until
    every decision quantity clears GAP."""
    CASES.append((name, loss, params, make, seed, draw))


def pair_inputs(n, d, scale=1.0):
    return lambda s: {"a": sample((n, d), 1000 + s, scale), "b": sample((n, d), 2000 + s, scale)}


# Contrastive (Hadsell 2006; sentence-transformers ContrastiveLoss convention)
case("contrastive_cosine_mean_default", "contrastive",
     {"margin": 0.5, "distance": "cosine", "reduction": "mean", "halved": True, "labels": [1, 0, 1, 0, 0, 1, 0, 1]},
     pair_inputs(8, 6), draw=True)
case("contrastive_euclidean_sum", "contrastive",
     {"margin": 4.0, "distance": "euclidean", "reduction": "sum", "halved": True, "labels": [1, 0, 0, 1, 0, 1, 0]},
     pair_inputs(7, 5), draw=True)
case("contrastive_squared_euclidean_none_unhalved_soft_labels", "contrastive",
     {"margin": 9.0, "distance": "squared_euclidean", "reduction": "none", "halved": False, "labels": [1, 0, 0.25, 0.75, 0, 1]},
     pair_inputs(6, 4), draw=True)
case("contrastive_nothing_active", "contrastive",
     {"margin": 0.5, "distance": "euclidean", "reduction": "mean", "halved": True, "labels": [0, 0, 0, 0]},
     pair_inputs(4, 5, scale=3.0), draw=True)
case("contrastive_single", "contrastive",
     {"margin": 0.5, "distance": "cosine", "reduction": "mean", "halved": True, "labels": [0]},
     lambda s: {"a": f32(torch.tensor([[1.0, 0.2, -0.3]])), "b": f32(torch.tensor([[0.9, 0.4, -0.1]]))})

# Online contrastive (sentence-transformers OnlineContrastiveLoss)
case("online_contrastive_cosine_sum_default", "online_contrastive",
     {"margin": 0.5, "distance": "cosine", "reduction": "sum", "labels": [1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1]},
     pair_inputs(12, 4), draw=True)
case("online_contrastive_euclidean_mean", "online_contrastive",
     {"margin": 3.0, "distance": "euclidean", "reduction": "mean", "labels": [1, 0, 1, 0, 1, 0, 0, 1, 1, 0]},
     pair_inputs(10, 4), draw=True)
case("online_contrastive_only_positives", "online_contrastive",
     {"margin": 0.5, "distance": "cosine", "reduction": "sum", "labels": [1, 1, 1, 1, 1]},
     pair_inputs(5, 4), draw=True)
case("online_contrastive_only_negatives", "online_contrastive",
     {"margin": 1.5, "distance": "cosine", "reduction": "sum", "labels": [0, 0, 0, 0, 0, 0]},
     pair_inputs(6, 4), draw=True)


def separated_pairs(s):
    # Positives are near-duplicates, negatives far apart: no positive is farther than a negative.
    a = sample((6, 4), 3000 + s)
    b = f32(a + 0.01 * sample((6, 4), 3100 + s))
    b[1::2] = f32(-a[1::2] + 0.05 * sample((3, 4), 3200 + s))
    return {"a": a, "b": b}


case("online_contrastive_nothing_hard", "online_contrastive",
     {"margin": 0.5, "distance": "cosine", "reduction": "sum", "labels": [1, 0, 1, 0, 1, 0]}, separated_pairs)

# Explicit triplets
trip = lambda n, d: (lambda s: {"anchor": sample((n, d), 4000 + s), "positive": sample((n, d), 4100 + s), "negative": sample((n, d), 4200 + s)})
case("triplet_euclidean_mean", "triplet", {"margin": 1.0, "distance": "euclidean", "reduction": "mean"}, trip(9, 5), draw=True)
case("triplet_cosine_mean", "triplet", {"margin": 0.3, "distance": "cosine", "reduction": "mean"}, trip(8, 4), draw=True)
case("triplet_squared_euclidean_sum", "triplet", {"margin": 2.0, "distance": "squared_euclidean", "reduction": "sum"}, trip(6, 3), draw=True)
case("triplet_cosine_none", "triplet", {"margin": 0.5, "distance": "cosine", "reduction": "none"}, trip(5, 4), draw=True)


def easy_triplets(s):
    a = sample((4, 3), 4300 + s)
    return {"anchor": a, "positive": f32(a + 0.01 * sample((4, 3), 4400 + s)), "negative": f32(a + 5.0)}


case("triplet_nothing_active", "triplet", {"margin": 0.2, "distance": "euclidean", "reduction": "mean"}, easy_triplets)

# In-batch triplet mining
lab8 = [0, 1, 0, 2, 1, 2, 0, 1]
lab10 = [3, 1, 3, 1, 2, 2, 3, 1, 2, 3]
emb = lambda n, d: (lambda s: {"embeddings": sample((n, d), 5000 + s)})
for strategy in ("batch-all", "batch-hard", "semi-hard"):
    tag = strategy.replace("-", "_")
    case(f"{tag}_euclidean", "batch_triplet", {"strategy": strategy, "margin": 1.0, "distance": "euclidean", "labels": lab8}, emb(8, 4), draw=True)
    case(f"{tag}_cosine", "batch_triplet", {"strategy": strategy, "margin": 0.3, "distance": "cosine", "labels": lab10}, emb(10, 5), draw=True)
    case(f"{tag}_squared_euclidean", "batch_triplet", {"strategy": strategy, "margin": 2.0, "distance": "squared_euclidean", "labels": lab8}, emb(8, 3), draw=True)
    # A singleton class (anchor 5 has no positive) and a class present once: anchors without a triplet.
    case(f"{tag}_with_singleton", "batch_triplet", {"strategy": strategy, "margin": 1.0, "distance": "euclidean", "labels": [0, 0, 1, 1, 1, 2, 0]}, emb(7, 4), draw=True)
    case(f"{tag}_all_same_class", "batch_triplet", {"strategy": strategy, "margin": 1.0, "distance": "euclidean", "labels": [4, 4, 4, 4, 4]}, emb(5, 3))
    case(f"{tag}_single_element", "batch_triplet", {"strategy": strategy, "margin": 1.0, "distance": "euclidean", "labels": [0]}, emb(1, 3))
    case(f"{tag}_all_distinct", "batch_triplet", {"strategy": strategy, "margin": 1.0, "distance": "euclidean", "labels": [0, 1, 2, 3]}, emb(4, 3))
    case(f"{tag}_nothing_active", "batch_triplet", {"strategy": strategy, "margin": 0.5, "distance": "euclidean", "labels": [0, 1, 0, 1, 2, 2]},
         lambda s: {"embeddings": clustered([0, 1, 0, 1, 2, 2], 4, 5500 + s)})


def semi_hard_fallback(s):
    # Class 0 points spread wide, class 1 points near the origin: for the pair (0, 2) every negative
    # is closer than the positive, so the FaceNet/TF-addons fallback (farthest negative) applies.
    x = sample((6, 3), 5600 + s) * 0.2
    x[0] = f32(torch.tensor([4.0, 0.0, 0.0]) + 0.1 * x[0])
    x[2] = f32(torch.tensor([-4.0, 0.5, 0.0]) + 0.1 * x[2])
    return {"embeddings": f32(x)}


case("semi_hard_fallback", "batch_triplet", {"strategy": "semi-hard", "margin": 1.0, "distance": "euclidean", "labels": [0, 1, 0, 1, 1, 1]}, semi_hard_fallback, draw=True)

# Multiple negatives ranking (InfoNCE)
def mnrl_inputs(n, d, negatives=0, duplicate=False):
    def make(s):
        t = {"anchors": sample((n, d), 6000 + s), "positives": sample((n, d), 6100 + s)}
        for k in range(negatives):
            t[f"negatives{k}"] = sample((n, d), 6200 + 100 * k + s)
        if duplicate:
            t["positives"][1] = t["positives"][0]  # a false negative: two anchors share a positive
        return t
    return make


case("mnrl_cosine_default", "mnrl", {"scale": 20.0, "similarity": "cosine", "symmetric": False, "reduction": "mean"}, mnrl_inputs(6, 8))
case("mnrl_one_hard_negative_block", "mnrl", {"scale": 20.0, "similarity": "cosine", "symmetric": False, "reduction": "mean"}, mnrl_inputs(5, 6, negatives=1))
case("mnrl_two_hard_negative_blocks_sum", "mnrl", {"scale": 10.0, "similarity": "cosine", "symmetric": False, "reduction": "sum"}, mnrl_inputs(4, 6, negatives=2))
case("mnrl_symmetric", "mnrl", {"scale": 20.0, "similarity": "cosine", "symmetric": True, "reduction": "mean"}, mnrl_inputs(6, 8))
case("mnrl_symmetric_hard_negatives", "mnrl", {"scale": 20.0, "similarity": "cosine", "symmetric": True, "reduction": "mean"}, mnrl_inputs(5, 4, negatives=1))
case("mnrl_dot_scale1", "mnrl", {"scale": 1.0, "similarity": "dot", "symmetric": False, "reduction": "mean"}, mnrl_inputs(5, 4))
case("mnrl_duplicate_positive", "mnrl", {"scale": 20.0, "similarity": "cosine", "symmetric": False, "reduction": "none"}, mnrl_inputs(4, 5, duplicate=True))
case("mnrl_single", "mnrl", {"scale": 20.0, "similarity": "cosine", "symmetric": True, "reduction": "mean"}, mnrl_inputs(1, 5))

# CoSENT
case("cosent_default", "cosent", {"scale": 20.0, "scores": [0.9, 0.1, 0.5, 0.3, 0.7, 0.0, 1.0]}, pair_inputs(7, 6))
case("cosent_ties", "cosent", {"scale": 20.0, "scores": [1, 0, 1, 0, 0.5, 0.5, 1, 0]}, pair_inputs(8, 5))
case("cosent_scale5", "cosent", {"scale": 5.0, "scores": [0.2, 0.4, 0.6, 0.8]}, pair_inputs(4, 3))
case("cosent_all_equal", "cosent", {"scale": 20.0, "scores": [0.5, 0.5, 0.5]}, pair_inputs(3, 4))
case("cosent_single", "cosent", {"scale": 20.0, "scores": [0.7]}, pair_inputs(1, 4))

# Cosine-similarity regression
case("cosine_similarity_mean", "cosine_similarity", {"reduction": "mean", "scores": [0.9, 0.1, 0.5, -0.3, 0.7, 0.0]}, pair_inputs(6, 5))
case("cosine_similarity_sum", "cosine_similarity", {"reduction": "sum", "scores": [1.0, 0.0, 0.25, 0.75]}, pair_inputs(4, 3))
case("cosine_similarity_none", "cosine_similarity", {"reduction": "none", "scores": [0.3, -0.6, 0.8]}, pair_inputs(3, 4))

# Binary cross-entropy (Koch et al. 2015 head)
case("bce_logits_mean", "bce_logits", {"reduction": "mean", "labels": [1, 0, 1, 0, 1, 0, 0.3, 1]},
     lambda s: {"logits": sample((8,), 7000 + s, 3.0)})
case("bce_logits_extreme", "bce_logits", {"reduction": "mean", "labels": [1, 0, 1, 0, 1, 0]},
     lambda s: {"logits": f32(torch.tensor([80.0, -80.0, -60.0, 60.0, 0.0, 1e-3]))})
case("bce_logits_sum_column", "bce_logits", {"reduction": "sum", "labels": [0, 1, 1, 0]},
     lambda s: {"logits": sample((4, 1), 7100 + s, 2.0)})
case("bce_logits_none", "bce_logits", {"reduction": "none", "labels": [0, 1, 1, 0, 1]},
     lambda s: {"logits": sample((5,), 7200 + s, 2.0)})
case("bce_probabilities_mean", "bce_probabilities", {"reduction": "mean", "labels": [1, 0, 1, 0, 1, 0, 0.5]},
     lambda s: {"probabilities": f32(torch.sigmoid(sample((7,), 7300 + s, 2.0)))})
case("bce_probabilities_sum", "bce_probabilities", {"reduction": "sum", "labels": [1, 1, 0, 0]},
     lambda s: {"probabilities": f32(torch.tensor([0.999, 0.01, 0.02, 0.98]))})


def head_inputs(n, d, include_product):
    def make(s):
        k = 2 * d if include_product else d
        return {"a": sample((n, d), 8000 + s), "b": sample((n, d), 8100 + s),
                "weight": sample((1, k), 8200 + s, 0.5), "bias": sample((1,), 8300 + s, 0.5)}
    return make


case("learned_head_abs_diff", "learned_head", {"include_product": False, "labels": [1, 0, 1, 1, 0, 0]}, head_inputs(6, 5, False), draw=True)
case("learned_head_abs_diff_product", "learned_head", {"include_product": True, "labels": [0, 1, 1, 0, 1]}, head_inputs(5, 4, True), draw=True)


# ----------------------------------------------------------------------------------------------


def build(name, loss, params, make, seed, draw):
    ref = REFERENCES[loss]
    # Float labels and scores reach Swift as Float: round them to float32 here too.
    for key in ("labels", "scores"):
        if key in params and loss != "batch_triplet":
            params[key] = [float(torch.tensor(float(v), dtype=torch.float32)) for v in params[key]]
    for attempt in range(500):
        s = seed + attempt
        tensors = {k: v.clone().requires_grad_(True) for k, v in make(s).items()}
        for k, v in tensors.items():
            assert torch.equal(v.detach(), f32(v.detach())), f"{name}: input {k} is not float32-exact"
        value, counts, gaps = ref(tensors, params)
        if draw and gaps and min(abs(g) for g in gaps) < GAP:
            continue
        break
    else:
        raise RuntimeError(f"{name}: no draw cleared the decision gap {GAP}")
    entry = {"name": name, "loss": loss, "params": params, "inputs": {k: as_json(v) for k, v in tensors.items()}}
    seed_tensor = None
    if value.dim() > 0:
        # Non-scalar output (reduction none): gradients of Σ w ⊙ value with fixed weights w.
        g = torch.Generator().manual_seed(99)
        seed_tensor = f32(torch.rand(value.shape, generator=g, dtype=torch.float32) * 2 - 1)
        entry["seed"] = as_json(seed_tensor)
        (value * seed_tensor).sum().backward()
    else:
        value.backward()
    entry["value"] = as_json(value)
    entry["grads"] = {k: as_json(v.grad if v.grad is not None else torch.zeros_like(v)) for k, v in tensors.items()}
    for k, v in entry["grads"].items():
        assert all(math.isfinite(x) for x in v["data"]), f"{name}: gradient of {k} is not finite"
    if counts is not None:
        entry["counts"] = counts
    if gaps:
        entry["min_decision_gap"] = min(abs(g) for g in gaps)
    with torch.no_grad():
        checks = crosscheck(loss, {k: v.detach() for k, v in tensors.items()}, params, value)
    entry["crosschecks"] = []
    for call, diff, tol in checks:
        if not diff <= tol:
            raise AssertionError(f"{name}: {call} differs from the reference by {diff} (tolerance {tol})")
        entry["crosschecks"].append({"library": call, "max_abs_difference": diff})
    return entry


def main():
    entries = [build(*c) for c in CASES]
    doc = {
        "generator": "Benchmarks/reference/losses_reference.py",
        "note": "float64 PyTorch autograd on float32 inputs; values and gradients w.r.t. every input",
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                     "sentence_transformers": ST_VERSION, "pytorch_metric_learning": PML_VERSION},
        "decision_gap": GAP,
        "cases": entries,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    n_checks = sum(len(e["crosschecks"]) for e in entries)
    print(f"wrote {OUT.relative_to(ROOT)}: {len(entries)} cases, {n_checks} library cross-checks passed")
    for e in entries:
        libs = ", ".join(c["library"].split(" ")[0] for c in e["crosschecks"]) or "-"
        print(f"  {e['name']:<58} value {e['value']['data'][0]:+.6f}  checked by: {libs}")


if __name__ == "__main__":
    main()
