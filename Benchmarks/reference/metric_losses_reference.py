#!/usr/bin/env python3
"""Reference values and gradients for the pytorch-metric-learning style losses, computed once.

Writes Tests/SiameseTests/Fixtures/metric_losses_reference.json, which
Tests/SiameseTests/MetricLossTests.swift reads. A sibling of losses_reference.py (whose helpers it
reuses and whose fixture it leaves untouched). Run it from the repository root:

    python3 -m venv Benchmarks/.venv-ref
    Benchmarks/.venv-ref/bin/pip install torch==2.13.0 numpy pytorch-metric-learning
    Benchmarks/.venv-ref/bin/python Benchmarks/reference/metric_losses_reference.py

As in losses_reference.py: float32 inputs, float64 autograd through a direct transcription of the
formula our Swift loss documents (`ref_*` below, written from the papers and the formulas, not by
calling the library), and every case also run through pytorch-metric-learning's own class
(`crosscheck`) with the script asserting agreement, so that the transcription follows pml 2.x
exactly (reductions, masks, empty cases). Mining decisions (the MultiSimilarityMiner's ε tests),
Circle's relu weights and ArcFace's branch are kept at least GAP from their boundaries.

Losses with learnable class weights / proxies (ArcFace, CosFace, ProxyAnchor) take them as an input
`weights` of shape [classes, d]; pml stores ArcFace/CosFace weights transposed ([d, classes], `W`),
its ProxyAnchor proxies as [classes, d]. Gradients with respect to the embeddings and the weights
are both recorded.
"""

from __future__ import annotations

import json
import math
import sys
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from losses_reference import GAP, ROOT, as_json, f32, sample  # noqa: E402  (sets float64 default)

import pytorch_metric_learning  # noqa: E402
from pytorch_metric_learning import losses as pml_losses, miners as pml_miners  # noqa: E402

warnings.filterwarnings("ignore")
torch.set_default_dtype(torch.float64)
OUT = ROOT / "Tests" / "SiameseTests" / "Fixtures" / "metric_losses_reference.json"


def cosine_matrix(a, b):
    return F.normalize(a, dim=1, eps=1e-12) @ F.normalize(b, dim=1, eps=1e-12).T


def pair_masks(labels):
    n = len(labels)
    pos = [[1.0 if i != j and labels[i] == labels[j] else 0.0 for j in range(n)] for i in range(n)]
    neg = [[1.0 if labels[i] != labels[j] else 0.0 for j in range(n)] for i in range(n)]
    return torch.tensor(pos).reshape(n, n), torch.tensor(neg).reshape(n, n)


def log1p_sum_exp(values):
    """log(1 + Σ exp(v)) over a (possibly empty) list of scalar tensors."""
    return torch.logsumexp(torch.stack(list(values) + [torch.zeros(())]), dim=0)


# ----------------------------------------------------------------------------------------------
# References: (value, counts or None, decision gaps)


def ms_mine(S, labels, eps):
    """Wang et al. 2019 pair mining: keep a positive when it is less similar than the hardest negative
    + ε, a negative when it is more similar than the hardest positive − ε."""
    n = len(labels)
    pos, neg = pair_masks(labels)
    gaps = []
    if pos.sum() == 0 or neg.sum() == 0:
        return torch.zeros(n, n), torch.zeros(n, n), gaps
    Sd = S.detach()
    kp, kn = torch.zeros(n, n), torch.zeros(n, n)
    for a in range(n):
        negs = [float(Sd[a, j]) for j in range(n) if neg[a, j]]
        poss = [float(Sd[a, j]) for j in range(n) if pos[a, j]]
        hardest_neg = max(negs) if negs else -math.inf
        hardest_pos = min(poss) if poss else math.inf
        for j in range(n):
            if pos[a, j]:
                q = float(Sd[a, j]) - eps - hardest_neg
                if math.isfinite(q):
                    gaps.append(q)
                kp[a, j] = 1.0 if q < 0 else 0.0
            if neg[a, j]:
                q = float(Sd[a, j]) + eps - hardest_pos
                if math.isfinite(q):
                    gaps.append(q)
                kn[a, j] = 1.0 if q > 0 else 0.0
    return kp, kn, gaps


def ref_multi_similarity(t, p):
    x, labels = t["embeddings"], p["labels"]
    alpha, beta, base = p["alpha"], p["beta"], p["base"]
    S = cosine_matrix(x, x)
    if p.get("epsilon") is not None:
        pos, neg, gaps = ms_mine(S, labels, p["epsilon"])
    else:
        (pos, neg), gaps = pair_masks(labels), []
    counts = {"positive_pairs": int(pos.sum()), "negative_pairs": int(neg.sum())}
    if counts["positive_pairs"] <= 1 and counts["negative_pairs"] <= 1:
        return (x * 0).sum(), counts, gaps
    n = len(labels)
    terms = []
    for a in range(n):
        lp = log1p_sum_exp(-alpha * (S[a, j] - base) for j in range(n) if pos[a, j]) / alpha
        ln = log1p_sum_exp(beta * (S[a, j] - base) for j in range(n) if neg[a, j]) / beta
        terms.append(lp + ln)
    return torch.stack(terms).mean(), counts, gaps


def ref_circle(t, p):
    """Sun et al. 2020, pair-wise labels: softplus(log Σ_n exp(γ α_n (s_n − Δ_n)) + log Σ_p exp(−γ α_p (s_p − Δ_p)))
    with α_p = [1 + m − s_p]₊, α_n = [s_n + m]₊ held constant (no gradient through them), averaged
    over the anchors with a positive loss."""
    x, labels, m, gamma = t["embeddings"], p["labels"], p["m"], p["gamma"]
    S = cosine_matrix(x, x)
    Sd = S.detach()
    pos, neg = pair_masks(labels)
    n = len(labels)
    if pos.sum() + neg.sum() == 0:
        return (x * 0).sum(), None, []
    gaps, terms = [], []
    for a in range(n):
        ps = [j for j in range(n) if pos[a, j]]
        ns = [j for j in range(n) if neg[a, j]]
        gaps += [float(Sd[a, j]) + m for j in ns]
        if not ps or not ns:
            continue
        lp = torch.logsumexp(torch.stack([-gamma * torch.relu(1 + m - Sd[a, j]) * (S[a, j] - (1 - m)) for j in ps]), 0)
        ln = torch.logsumexp(torch.stack([gamma * torch.relu(Sd[a, j] + m) * (S[a, j] - m) for j in ns]), 0)
        terms.append(F.softplus(lp + ln))
    terms = [v for v in terms if v > 0]
    if not terms:
        return (x * 0).sum(), None, gaps
    return torch.stack(terms).mean(), {"anchors": len(terms)}, gaps


def ref_supcon(t, p):
    """Khosla et al. 2020, L^sup_out: −1/|P(a)| Σ_p log( exp(s_ap/τ) / Σ_{k≠a} exp(s_ak/τ) ),
    averaged over the anchors with a positive loss; zero without both a positive and a negative pair."""
    x, labels, tau = t["embeddings"], p["labels"], p["temperature"]
    S = cosine_matrix(x, x) / tau
    pos, neg = pair_masks(labels)
    n = len(labels)
    if pos.sum() == 0 or neg.sum() == 0:
        return (x * 0).sum(), None, []
    terms = []
    for a in range(n):
        ps = [j for j in range(n) if pos[a, j]]
        if not ps:
            continue
        denom = torch.logsumexp(torch.stack([S[a, k] for k in range(n) if k != a]), 0)
        terms.append(-sum(S[a, j] - denom for j in ps) / len(ps))
    terms = [v for v in terms if v > 0]
    if not terms:
        return (x * 0).sum(), None, []
    return torch.stack(terms).mean(), {"anchors": len(terms)}, []


def ref_margin_softmax(t, p, kind):
    """ArcFace (Deng et al. 2019): the target logit is s·cos(θ + m) (s·(cos θ − m·sin m) past θ = π − m);
    CosFace (Wang et al. 2018): s·(cos θ − m); the other logits s·cos θ; cross-entropy, mean."""
    x, W, labels = t["embeddings"], t["weights"], p["labels"]
    C = cosine_matrix(x, W)
    n = len(labels)
    logits, gaps = [], []
    for i in range(n):
        row = []
        for c in range(W.shape[0]):
            v = C[i, c]
            if c == labels[i]:
                if kind == "arcface":
                    m = math.radians(p["margin"])
                    theta = torch.acos(torch.clamp(v, -1, 1))
                    gaps.append(float(math.pi - m - theta))
                    v = torch.cos(theta + m) if theta <= math.pi - m else torch.cos(theta) - m * math.sin(m)
                else:
                    v = v - p["margin"]
            row.append(v)
        logits.append(torch.stack(row))
    logits = torch.stack(logits) * p["scale"]
    y = torch.tensor(labels)
    terms = torch.logsumexp(logits, 1) - logits[torch.arange(n), y]
    return terms.mean(), None, gaps


def ref_arcface(t, p):
    return ref_margin_softmax(t, p, "arcface")


def ref_cosface(t, p):
    return ref_margin_softmax(t, p, "cosface")


def ref_proxy_anchor(t, p):
    """Kim et al. 2020: 1/|P⁺| Σ_{c ∈ P⁺} log(1 + Σ_{i: y_i = c} e^{−α(s_ic − δ)})
    + 1/|C| Σ_c log(1 + Σ_{i: y_i ≠ c} e^{α(s_ic + δ)}), P⁺ the classes present in the batch."""
    x, P, labels = t["embeddings"], t["weights"], p["labels"]
    alpha, delta = p["alpha"], p["margin"]
    C = cosine_matrix(x, P)
    classes = P.shape[0]
    n = len(labels)
    present = sorted(set(labels))
    pos = sum(log1p_sum_exp(-alpha * (C[i, c] - delta) for i in range(n) if labels[i] == c) for c in range(classes))
    neg = sum(log1p_sum_exp(alpha * (C[i, c] + delta) for i in range(n) if labels[i] != c) for c in range(classes))
    return pos / len(present) + neg / classes, None, []


REFERENCES = {
    "multi_similarity": ref_multi_similarity,
    "circle": ref_circle,
    "supcon": ref_supcon,
    "arcface": ref_arcface,
    "cosface": ref_cosface,
    "proxy_anchor": ref_proxy_anchor,
}


# ----------------------------------------------------------------------------------------------
# Cross-checks against pytorch-metric-learning 2.x

weight_grad = []  # a getter for the gradient of the library's own class-weight parameter


def crosscheck(loss, t, p):
    """(library call, value, mined counts); for the class-weight losses the library's own parameter's
    gradient is copied into t["weights"].grad after backward (see `weight_grad`)."""
    x, y = t["embeddings"], torch.tensor(p["labels"])
    if loss == "multi_similarity":
        fn = pml_losses.MultiSimilarityLoss(alpha=p["alpha"], beta=p["beta"], base=p["base"])
        if p.get("epsilon") is not None:
            miner = pml_miners.MultiSimilarityMiner(epsilon=p["epsilon"])
            tup = miner(x, y)
            return "pytorch_metric_learning.MultiSimilarityMiner + MultiSimilarityLoss", fn(x, y, tup), \
                {"positive_pairs": len(tup[0]), "negative_pairs": len(tup[2])}
        return "pytorch_metric_learning.MultiSimilarityLoss", fn(x, y), None
    if loss == "circle":
        return "pytorch_metric_learning.CircleLoss", pml_losses.CircleLoss(m=p["m"], gamma=p["gamma"])(x, y), None
    if loss == "supcon":
        return "pytorch_metric_learning.SupConLoss", pml_losses.SupConLoss(temperature=p["temperature"])(x, y), None
    W = t["weights"]
    classes, d = W.shape
    if loss == "arcface":
        fn = pml_losses.ArcFaceLoss(classes, d, margin=p["margin"], scale=p["scale"])
        fn.W.data = W.detach().T.clone()
        weight_grad[:] = [lambda: fn.W.grad.T]
        return "pytorch_metric_learning.ArcFaceLoss", fn(x, y), None
    if loss == "cosface":
        fn = pml_losses.CosFaceLoss(classes, d, margin=p["margin"], scale=p["scale"])
        fn.W.data = W.detach().T.clone()
        weight_grad[:] = [lambda: fn.W.grad.T]
        return "pytorch_metric_learning.CosFaceLoss", fn(x, y), None
    if loss == "proxy_anchor":
        fn = pml_losses.ProxyAnchorLoss(classes, d, margin=p["margin"], alpha=p["alpha"])
        fn.proxies.data = W.detach().clone()
        weight_grad[:] = [lambda: fn.proxies.grad]
        return "pytorch_metric_learning.ProxyAnchorLoss", fn(x, y), None
    raise ValueError(loss)


# ----------------------------------------------------------------------------------------------
# Cases

CASES = []


def case(name, loss, params, make, draw=False):
    CASES.append((name, loss, params, make, draw))


emb = lambda n, d, scale=1.0: (lambda s: {"embeddings": sample((n, d), 9000 + s, scale)})


def emb_weights(n, d, classes):
    return lambda s: {"embeddings": sample((n, d), 9100 + s), "weights": sample((classes, d), 9200 + s)}


def tight_clusters(labels, d, spread):
    """Embeddings near one random direction per class: ms-miner cases where some pairs are easy."""
    def make(s):
        g = torch.Generator().manual_seed(9300 + s)
        centres = torch.randn(max(labels) + 1, d, generator=g, dtype=torch.float32)
        return {"embeddings": f32(torch.stack([centres[c] + spread * torch.randn(d, generator=g, dtype=torch.float32) for c in labels]))}
    return make


lab12 = [0, 1, 2, 0, 1, 2, 0, 1, 2, 3, 3, 0]
lab8 = [0, 1, 0, 2, 1, 2, 0, 1]
one_class = [5, 5, 5, 5]
distinct = [0, 1, 2, 3, 4]
single = [0]
with_singleton = [0, 0, 1, 1, 1, 2, 0]

# MultiSimilarity (Wang et al. 2019), pml defaults alpha 2, beta 50, base 0.5.
ms = lambda **kw: {"alpha": 2.0, "beta": 50.0, "base": 0.5, "epsilon": None, **kw}
case("ms_default", "multi_similarity", ms(labels=lab12), emb(12, 6))
case("ms_params", "multi_similarity", ms(alpha=4.0, beta=20.0, base=0.2, labels=lab8), emb(8, 5))
case("ms_with_singleton", "multi_similarity", ms(labels=with_singleton), emb(7, 4))
case("ms_one_class", "multi_similarity", ms(labels=one_class), emb(4, 3))
case("ms_all_distinct", "multi_similarity", ms(labels=distinct), emb(5, 3))
case("ms_single_element", "multi_similarity", ms(labels=single), emb(1, 3))
case("ms_mined_default", "multi_similarity", ms(epsilon=0.1, labels=lab12), emb(12, 6), draw=True)
case("ms_mined_clusters", "multi_similarity", ms(epsilon=0.1, labels=lab12), tight_clusters(lab12, 6, 0.6), draw=True)
case("ms_mined_eps05", "multi_similarity", ms(epsilon=0.5, base=0.3, labels=lab8), emb(8, 4), draw=True)
case("ms_mined_with_singleton", "multi_similarity", ms(epsilon=0.1, labels=with_singleton), emb(7, 4), draw=True)
case("ms_mined_one_class", "multi_similarity", ms(epsilon=0.1, labels=one_class), emb(4, 3))
case("ms_mined_all_distinct", "multi_similarity", ms(epsilon=0.1, labels=distinct), emb(5, 3))
case("ms_mined_nothing_hard", "multi_similarity", ms(epsilon=0.1, labels=[0, 1, 0, 1, 2, 2]),
     tight_clusters([0, 1, 0, 1, 2, 2], 8, 0.01), draw=True)

# Circle (Sun et al. 2020), pml defaults m 0.4, gamma 80.
circle = lambda **kw: {"m": 0.4, "gamma": 80.0, **kw}
case("circle_default", "circle", circle(labels=lab12), emb(12, 6), draw=True)
case("circle_params", "circle", circle(m=0.25, gamma=32.0, labels=lab8), emb(8, 5), draw=True)
case("circle_with_singleton", "circle", circle(labels=with_singleton), emb(7, 4), draw=True)
case("circle_clusters", "circle", circle(labels=lab12), tight_clusters(lab12, 6, 0.5), draw=True)
case("circle_one_class", "circle", circle(labels=one_class), emb(4, 3))
case("circle_all_distinct", "circle", circle(labels=distinct), emb(5, 3))
case("circle_single_element", "circle", circle(labels=single), emb(1, 3))

# SupCon (Khosla et al. 2020), pml default temperature 0.1.
case("supcon_default", "supcon", {"temperature": 0.1, "labels": lab12}, emb(12, 6))
case("supcon_t05", "supcon", {"temperature": 0.5, "labels": lab8}, emb(8, 5))
case("supcon_with_singleton", "supcon", {"temperature": 0.1, "labels": with_singleton}, emb(7, 4))
case("supcon_clusters", "supcon", {"temperature": 0.07, "labels": lab12}, tight_clusters(lab12, 6, 0.5))
case("supcon_one_class", "supcon", {"temperature": 0.1, "labels": one_class}, emb(4, 3))
case("supcon_all_distinct", "supcon", {"temperature": 0.1, "labels": distinct}, emb(5, 3))
case("supcon_single_element", "supcon", {"temperature": 0.1, "labels": single}, emb(1, 3))

# ArcFace (margin in degrees, pml default 28.6 and scale 64) and CosFace (0.35, 64).
case("arcface_default", "arcface", {"margin": 28.6, "scale": 64.0, "labels": [0, 1, 2, 3, 1, 0, 4, 2]}, emb_weights(8, 6, 5), draw=True)
case("arcface_params", "arcface", {"margin": 10.0, "scale": 16.0, "labels": [0, 1, 2, 1, 0, 2]}, emb_weights(6, 4, 3), draw=True)
case("arcface_one_class", "arcface", {"margin": 28.6, "scale": 64.0, "labels": [1, 1, 1]}, emb_weights(3, 4, 3), draw=True)
case("arcface_single_element", "arcface", {"margin": 28.6, "scale": 64.0, "labels": [2]}, emb_weights(1, 4, 3), draw=True)


def arcface_past_pi(s):
    # Row 0 points almost opposite its class weight: θ > π − m, the monotone fallback branch.
    t = emb_weights(4, 4, 3)(s)
    t["embeddings"][0] = f32(-t["weights"][0] + 0.05 * t["embeddings"][0])
    return t


case("arcface_past_pi_minus_m", "arcface", {"margin": 28.6, "scale": 64.0, "labels": [0, 1, 2, 1]}, arcface_past_pi, draw=True)
case("cosface_default", "cosface", {"margin": 0.35, "scale": 64.0, "labels": [0, 1, 2, 3, 1, 0, 4, 2]}, emb_weights(8, 6, 5))
case("cosface_params", "cosface", {"margin": 0.1, "scale": 10.0, "labels": [0, 1, 2, 1, 0, 2]}, emb_weights(6, 4, 3))
case("cosface_one_class", "cosface", {"margin": 0.35, "scale": 64.0, "labels": [1, 1, 1]}, emb_weights(3, 4, 3))

# ProxyAnchor (Kim et al. 2020), pml defaults margin 0.1, alpha 32.
case("proxy_anchor_default", "proxy_anchor", {"margin": 0.1, "alpha": 32.0, "labels": [0, 1, 2, 3, 1, 0, 2, 2]}, emb_weights(8, 6, 6))
case("proxy_anchor_params", "proxy_anchor", {"margin": 0.3, "alpha": 8.0, "labels": [0, 1, 2, 1, 0, 2]}, emb_weights(6, 4, 3))
case("proxy_anchor_one_class", "proxy_anchor", {"margin": 0.1, "alpha": 32.0, "labels": [2, 2, 2, 2]}, emb_weights(4, 4, 4))
case("proxy_anchor_all_distinct", "proxy_anchor", {"margin": 0.1, "alpha": 32.0, "labels": [0, 1, 2, 3]}, emb_weights(4, 4, 5))
case("proxy_anchor_single_element", "proxy_anchor", {"margin": 0.1, "alpha": 32.0, "labels": [1]}, emb_weights(1, 4, 3))


# ----------------------------------------------------------------------------------------------


def build(name, loss, params, make, draw):
    ref = REFERENCES[loss]
    for attempt in range(500):
        tensors = {k: v.clone().requires_grad_(True) for k, v in make(attempt).items()}
        for k, v in tensors.items():
            assert torch.equal(v.detach(), f32(v.detach())), f"{name}: input {k} is not float32-exact"
        value, counts, gaps = ref(tensors, params)
        if draw and gaps and min(abs(g) for g in gaps) < GAP:
            continue
        break
    else:
        raise RuntimeError(f"{name}: no draw cleared the decision gap {GAP}")
    value.backward()
    entry = {"name": name, "loss": loss, "params": {k: v for k, v in params.items() if v is not None},
             "inputs": {k: as_json(v) for k, v in tensors.items()}, "value": as_json(value),
             "grads": {k: as_json(v.grad if v.grad is not None else torch.zeros_like(v)) for k, v in tensors.items()}}
    for k, v in entry["grads"].items():
        assert all(math.isfinite(x) for x in v["data"]), f"{name}: gradient of {k} is not finite"
    if counts is not None and loss == "multi_similarity":
        entry["counts"] = counts
    if gaps:
        entry["min_decision_gap"] = min(abs(g) for g in gaps)
    # The library, on detached copies: value, gradients (through its own autograd) and mined counts.
    lib_inputs = {k: v.detach().clone().requires_grad_(True) for k, v in tensors.items()}
    call, lib_value, lib_counts = crosscheck(loss, lib_inputs, params)
    diff = abs(float(lib_value) - float(value))
    assert diff <= 1e-9 * max(1.0, abs(float(value))), f"{name}: {call} value differs by {diff}"
    if lib_value.requires_grad:
        lib_value.backward()
    grad_diff = 0.0
    for k, v in lib_inputs.items():
        g = v.grad if v.grad is not None else torch.zeros_like(v)
        if k == "weights":
            g = weight_grad.pop()()
        r = tensors[k].grad if tensors[k].grad is not None else torch.zeros_like(v)
        grad_diff = max(grad_diff, float((g - r).abs().max()))
    assert grad_diff <= 1e-8, f"{name}: {call} gradients differ by {grad_diff}"
    if lib_counts is not None:
        assert lib_counts == counts, f"{name}: {call} mined {lib_counts}, reference {counts}"
    entry["crosschecks"] = [{"library": call, "max_abs_difference": diff, "max_abs_gradient_difference": grad_diff}]
    return entry


def main():
    entries = [build(*c) for c in CASES]
    doc = {
        "generator": "Benchmarks/reference/metric_losses_reference.py",
        "note": "float64 PyTorch autograd on float32 inputs; values and gradients w.r.t. every input; "
                "each case cross-checked (value, gradients, mined counts) against pytorch-metric-learning",
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                     "pytorch_metric_learning": pytorch_metric_learning.__version__},
        "decision_gap": GAP,
        "cases": entries,
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(entries)} cases, each cross-checked against pytorch-metric-learning")
    for e in entries:
        c = e["crosschecks"][0]
        print(f"  {e['name']:<28} value {e['value']['data'][0]:+.6f}  |Δ| {c['max_abs_difference']:.1e}  "
              f"|Δgrad| {c['max_abs_gradient_difference']:.1e}  {e.get('counts', '')}")


if __name__ == "__main__":
    main()
