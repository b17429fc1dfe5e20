#!/usr/bin/env python3
"""Reference values and gradients for the sentence-transformers losses added in issue 16
(Matryoshka, CachedMultipleNegativesRanking, GISTEmbed, AnglE), computed with
sentence-transformers' own loss classes in float64.

Writes Tests/SiameseTests/Fixtures/st_losses_reference.json, read by
Tests/SiameseTests/SentenceTransformerLossTests.swift. Run it from the repository root:

    python3 -m venv Benchmarks/.venv-losses
    Benchmarks/.venv-losses/bin/pip install torch==2.13.0 numpy sentence-transformers
    HF_HUB_OFFLINE=1 Benchmarks/.venv-losses/bin/python Benchmarks/reference/st_losses_reference.py

How the numbers are made
- Inputs are float32 samples from seeded generators, written to the JSON exactly, so Swift reads
  the very same inputs; the computation itself runs in float64 (torch default dtype), so the tests
  measure only the float32 error of our engine.
- The loss value and gradients come from the library's classes. The losses that embed texts
  themselves (MatryoshkaLoss, CachedMultipleNegativesRankingLoss, GISTEmbedLoss) are given a
  stand-in "model": a module whose forward maps the feature {"idx": row indices} to
  {"sentence_embedding": …} — for the plain cases the rows of a leaf tensor E (so the gradient with
  respect to E is the gradient with respect to the embeddings), for the cached case
  tanh(X[idx] · W), so that the gradient with respect to the shared weight W sums over mini-batches.
- Cross-checks: Matryoshka against the explicit sum of the inner loss over renormalised prefixes;
  CachedMultipleNegativesRanking against the plain MultipleNegativesRankingLoss on the whole batch
  (value and gradient); GISTEmbed against a direct transcription of its masking; AnglE against
  CoSENT's formula on `pairwise_angle_sim`.
- The guide's mask and AnglE's absolute value are decisions: cases are redrawn until each
  decision quantity is at least GAP from its boundary, so float32 takes the same branch and the
  finite differences in the Swift tests never cross a kink.
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
from torch import nn

torch.set_default_dtype(torch.float64)
warnings.filterwarnings("ignore")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import sentence_transformers  # noqa: E402
from sentence_transformers import util as st_util  # noqa: E402
from sentence_transformers.sentence_transformer import losses as st_losses  # noqa: E402

GAP = 1e-2
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests" / "SiameseTests" / "Fixtures" / "st_losses_reference.json"


def sample(shape, seed, scale=1.0):
    """float32 normal samples held in float64 tensors."""
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(*shape, generator=g, dtype=torch.float32) * scale).to(torch.float64)


def f32(t):
    return t.to(torch.float32).to(torch.float64)


def as_json(t):
    t = t.detach()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def f32_list(values):
    return [float(torch.tensor(float(v), dtype=torch.float32)) for v in values]


# ----------------------------------------------------------------------------------------------
# Stand-in models


class RowModel(nn.Module):
    """A "SentenceTransformer" whose embeddings are the rows of a leaf tensor."""

    def __init__(self, rows):
        super().__init__()
        self.rows = rows

    def forward(self, features):
        return {"sentence_embedding": self.rows[features["idx"]]}

    def __getitem__(self, i):  # has_static_embedding_input looks at model[0]
        return self

    def _get_untruncated_embedding_dimension(self):
        return self.rows.shape[1]

    def get_embedding_dimension(self):
        return self.rows.shape[1]


class TanhLinearModel(RowModel):
    """Embeddings tanh(X[idx] · W) with a trainable W: gradients accumulate over mini-batches."""

    def __init__(self, x, w):
        super().__init__(x)
        self.w = w

    def forward(self, features):
        return {"sentence_embedding": torch.tanh(self.rows[features["idx"]] @ self.w)}

    def _get_untruncated_embedding_dimension(self):
        return self.w.shape[1]


def columns(n, k):
    """k feature dicts of n consecutive row indices each (anchors, positives, negatives…)."""
    return [{"idx": torch.arange(c * n, (c + 1) * n)} for c in range(k)]


def max_diff(a, b):
    return float((a.detach() - b.detach()).abs().max())


# ----------------------------------------------------------------------------------------------
# AnglE


def angle_case(name, n, d, scores, scale, seed):
    scores = f32_list(scores)
    for attempt in range(500):
        a, b = sample((n, d), seed + attempt), sample((n, d), seed + 1000 + attempt)
        sims = st_util.pairwise_angle_sim(a, b)
        if float(sims.abs().min()) >= GAP:
            break
    else:
        raise RuntimeError(name)
    a.requires_grad_(True)
    b.requires_grad_(True)
    fn = st_losses.AnglELoss(None, scale=scale)
    value = fn.compute_loss_from_embeddings([a, b], torch.tensor(scores))
    value.backward()
    # CoSENT's definition written out on the AnglE similarity.
    with torch.no_grad():
        s = st_util.pairwise_angle_sim(a, b) * scale
        terms = [s[i] - s[j] for i in range(n) for j in range(n) if scores[i] < scores[j]]
        manual = torch.logsumexp(torch.stack([torch.zeros(())] + terms), 0) if terms else torch.zeros(())
    checks = [("log(1 + Σ exp(λ(s_i − s_j))) on pairwise_angle_sim", max_diff(value, manual))]
    return entry(name, "angle", {"scale": scale, "scores": scores}, {"a": a, "b": b}, {}, value, checks,
                 gap=float(sims.abs().min()))


# ----------------------------------------------------------------------------------------------
# Matryoshka


def matryoshka_case(name, inner, n, d, dims, weights, seed, negatives=0, scale=20.0, scores=None):
    k = 2 + negatives
    e = sample((k * n, d), seed).requires_grad_(True)
    model = RowModel(e)
    params = {"inner": inner, "dimensions": dims, "weights": weights, "scale": scale}
    if inner == "mnrl":
        inner_loss = st_losses.MultipleNegativesRankingLoss(model, scale=scale)
        labels = None
    elif inner == "cosent":
        inner_loss = st_losses.CoSENTLoss(model, scale=scale)
        params["scores"] = f32_list(scores)
        labels = torch.tensor(params["scores"])
    else:
        raise ValueError(inner)
    loss = st_losses.MatryoshkaLoss(model, inner_loss, dims, matryoshka_weights=weights)
    value = loss(columns(n, k), labels)
    value.backward()
    # The sum written out: weight × inner loss on each renormalised prefix.
    with torch.no_grad():
        blocks = [e[c * n:(c + 1) * n] for c in range(k)]
        manual = torch.zeros(())
        for dim, w in zip(dims, weights or [1] * len(dims)):
            prefixes = [F.normalize(b[:, :dim], p=2, dim=1) for b in blocks]
            manual = manual + w * inner_loss.compute_loss_from_embeddings(prefixes, labels)
    checks = [("Σ_k w_k · inner(normalize(E[:, :d_k]))", max_diff(value, manual))]
    inputs = {"anchors": e[:n], "positives": e[n:2 * n]} | {f"negatives{c - 2}": e[c * n:(c + 1) * n] for c in range(2, k)}
    if inner == "cosent":
        inputs = {"a": e[:n], "b": e[n:2 * n]}
    return entry(name, "matryoshka", params, inputs, {}, value, checks, grad_source=(e, n, list(inputs)))


# ----------------------------------------------------------------------------------------------
# CachedMultipleNegativesRanking


def cached_mnrl_case(name, n, din, d, negatives, mini, scale, seed):
    k = 2 + negatives
    x = sample((k * n, din), seed)
    w0 = sample((din, d), seed + 1, scale=0.5)
    w = w0.clone().requires_grad_(True)
    fn = st_losses.CachedMultipleNegativesRankingLoss(TanhLinearModel(x, w), scale=scale, mini_batch_size=mini)
    value = fn(columns(n, k), None)
    value.backward()
    cached_grad = w.grad.clone()
    # The plain loss on the whole batch: the same value and the same gradient.
    w2 = w0.clone().requires_grad_(True)
    plain = st_losses.MultipleNegativesRankingLoss(TanhLinearModel(x, w2), scale=scale)
    plain_value = plain(columns(n, k), None)
    plain_value.backward()
    checks = [("MultipleNegativesRankingLoss value (whole batch)", max_diff(value, plain_value)),
              ("MultipleNegativesRankingLoss gradient of W (whole batch)", max_diff(cached_grad, w2.grad))]
    params = {"scale": scale, "mini_batch_size": mini, "anchors": n}
    return entry(name, "cached_mnrl", params, {"w": w}, {"x": x}, value, checks)


# ----------------------------------------------------------------------------------------------
# GISTEmbed


def gist_loss(model, guide, temperature, strategy, margin, contrast_anchors, contrast_positives):
    """The library's class, built without its tokenizer checks (the stand-ins have no tokenizer)."""
    fn = st_losses.GISTEmbedLoss.__new__(st_losses.GISTEmbedLoss)
    nn.Module.__init__(fn)
    fn.model, fn.guide = model, guide
    fn.temperature = temperature
    fn.similarity_fct = nn.CosineSimilarity(dim=-1)
    fn.must_retokenize = False
    fn.margin_strategy, fn.margin = strategy, margin
    fn.contrast_anchors, fn.contrast_positives = contrast_anchors, contrast_positives
    fn.gather_across_devices = False
    fn.cross_entropy_loss = nn.CrossEntropyLoss()
    return fn


def gist_transcription(e, g, n, k, temperature, strategy, margin, contrast_anchors, contrast_positives):
    """GISTEmbed's masking written out, with the number of dropped candidates and the decision gaps."""
    cos = lambda a, b: F.normalize(a, dim=1) @ F.normalize(b, dim=1).T  # noqa: E731
    blocks = [e[c * n:(c + 1) * n] for c in range(k)]
    guides = [g[c * n:(c + 1) * n] for c in range(k)]
    gap_ap = cos(guides[0], guides[1])
    own = gap_ap.diagonal().view(-1, 1)
    threshold = own - margin if strategy == "absolute" else own - own.abs() * margin
    eye = torch.eye(n, dtype=torch.bool)
    pieces, dropped, gaps = [], 0, []

    def masked(model_sim, guide_sim, diagonal):
        nonlocal dropped
        decide = ~eye if diagonal in ("keep", "drop") else torch.ones_like(eye)
        mask = (guide_sim > threshold) & decide
        gaps.extend((guide_sim - threshold)[decide].tolist())
        dropped += int(mask.sum())
        if diagonal == "drop":
            mask = mask | eye
        return model_sim.masked_fill(mask, -math.inf)

    pieces.append(masked(cos(blocks[0], blocks[1]), gap_ap, "keep"))
    if contrast_anchors:
        pieces.append(masked(cos(blocks[0], blocks[0]), cos(guides[0], guides[0]), "drop"))
    if contrast_positives:
        pieces.append(masked(cos(blocks[1], blocks[1]), cos(guides[1], guides[1]), "drop"))
    for c in range(2, k):
        pieces.append(masked(cos(blocks[0], blocks[c]), cos(guides[0], guides[c]), "none"))
    logits = torch.cat(pieces, dim=1) / temperature
    return F.cross_entropy(logits, torch.arange(n)), dropped, gaps


def gist_inputs(n, d, dg, k, seed):
    """Model embeddings, and guide embeddings in which some in-batch candidates resemble another
    row's anchor more than its own positive does (false negatives for the guide to drop)."""
    e = sample((k * n, d), seed)
    base = sample((n, dg), seed + 1)
    g = [base, f32(base + sample((n, dg), seed + 2, scale=0.6))]
    for c in range(2, k):
        g.append(sample((n, dg), seed + 3 + c))
    g = torch.cat(g, dim=0)
    # Row 1's positive and row 3's anchor copy row 0's anchor: candidates the guide rates highly.
    g[n + 1] = f32(base[0] + 0.05 * sample((dg,), seed + 7).view(-1))
    g[3] = f32(base[0] + 0.05 * sample((dg,), seed + 8).view(-1))
    return e, g


def gist_case(name, n, d, dg, negatives, temperature, strategy, margin, contrast_anchors, contrast_positives, seed):
    k = 2 + negatives
    for attempt in range(500):
        e, g = gist_inputs(n, d, dg, k, seed + 17 * attempt)
        _, dropped, gaps = gist_transcription(e, g, n, k, temperature, strategy, margin, contrast_anchors, contrast_positives)
        if min(abs(x) for x in gaps) >= GAP and dropped > 0:
            break
    else:
        raise RuntimeError(name)
    e.requires_grad_(True)
    fn = gist_loss(RowModel(e), RowModel(g), temperature, strategy, margin, contrast_anchors, contrast_positives)
    value = fn(columns(n, k), None)
    value.backward()
    with torch.no_grad():
        manual, dropped, gaps = gist_transcription(e, g, n, k, temperature, strategy, margin, contrast_anchors, contrast_positives)
    checks = [("GISTEmbed masking written out", max_diff(value, manual))]
    params = {"temperature": temperature, "margin_strategy": strategy, "margin": margin,
              "contrast_anchors": contrast_anchors, "contrast_positives": contrast_positives}
    names = ["anchors", "positives"] + [f"negatives{c - 2}" for c in range(2, k)]
    inputs = {key: e[c * n:(c + 1) * n] for c, key in enumerate(names)}
    constants = {"guide_" + key: g[c * n:(c + 1) * n] for c, key in enumerate(names)}
    return entry(name, "gist", params, inputs, constants, value, checks, grad_source=(e, n, names),
                 counts={"dropped": dropped}, gap=min(abs(x) for x in gaps))


# ----------------------------------------------------------------------------------------------


def entry(name, loss, params, inputs, constants, value, checks, grad_source=None, counts=None, gap=None):
    for key, t in list(inputs.items()) + list(constants.items()):
        assert torch.equal(t.detach(), f32(t.detach())), f"{name}: {key} is not float32-exact"
    if grad_source is not None:
        # Inputs are row blocks of one leaf E: their gradients are the blocks of E's gradient.
        e, n, names = grad_source
        grads = {key: e.grad[c * n:(c + 1) * n] for c, key in enumerate(names)}
    else:
        grads = {key: t.grad for key, t in inputs.items()}
    for key, g in grads.items():
        assert g is not None and bool(torch.isfinite(g).all()), f"{name}: gradient of {key}"
    for call, diff in checks:
        if not diff <= 1e-10:
            raise AssertionError(f"{name}: {call} differs by {diff}")
    out = {"name": name, "loss": loss, "params": params,
           "inputs": {k: as_json(v) for k, v in inputs.items()},
           "constants": {k: as_json(v) for k, v in constants.items()},
           "value": as_json(value), "grads": {k: as_json(v) for k, v in grads.items()},
           "crosschecks": [{"check": c, "max_abs_difference": d} for c, d in checks]}
    if counts is not None:
        out["counts"] = counts
    if gap is not None:
        out["min_decision_gap"] = gap
    return out


def main():
    entries = [
        angle_case("angle_default", 7, 6, [0.9, 0.1, 0.5, 0.3, 0.7, 0.0, 1.0], 20.0, 0),
        angle_case("angle_odd_width_ties_scale10", 6, 5, [1, 0, 1, 0, 0.5, 0.5], 10.0, 10),
        angle_case("angle_all_equal", 3, 4, [0.5, 0.5, 0.5], 20.0, 20),
        matryoshka_case("matryoshka_mnrl", "mnrl", 6, 8, [8, 4, 2], None, 30),
        matryoshka_case("matryoshka_mnrl_hard_negatives_weights_unsorted", "mnrl", 5, 6, [3, 6], [0.5, 1.0], 40,
                        negatives=1, scale=10.0),
        matryoshka_case("matryoshka_cosent", "cosent", 6, 8, [8, 5], [1.0, 2.0], 50,
                        scores=[0.9, 0.1, 0.5, 0.3, 0.7, 0.0]),
        cached_mnrl_case("cached_mnrl_mini2", 5, 4, 6, 0, 2, 20.0, 60),
        cached_mnrl_case("cached_mnrl_hard_negatives_mini3", 4, 5, 6, 1, 3, 10.0, 70),
        cached_mnrl_case("cached_mnrl_mini_larger_than_batch", 3, 4, 5, 0, 32, 20.0, 80),
        gist_case("gist_default", 6, 8, 5, 0, 0.01, "absolute", 0.0, True, True, 90),
        gist_case("gist_hard_negatives_relative_margin", 5, 6, 4, 1, 0.05, "relative", 0.1, True, True, 100),
        gist_case("gist_positives_only_absolute_margin", 6, 6, 6, 0, 0.02, "absolute", 0.05, False, True, 110),
    ]
    doc = {
        "generator": "Benchmarks/reference/st_losses_reference.py",
        "note": "sentence-transformers' loss classes in float64 on float32 inputs; values and gradients",
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                     "sentence_transformers": sentence_transformers.__version__},
        "decision_gap": GAP,
        "cases": entries,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(entries)} cases (sentence-transformers {sentence_transformers.__version__})")
    for e in entries:
        extra = f"  dropped {e['counts']['dropped']}" if "counts" in e else ""
        print(f"  {e['name']:<52} value {e['value']['data'][0]:+.6f}{extra}")


if __name__ == "__main__":
    main()
