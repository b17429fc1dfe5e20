#!/usr/bin/env python3
"""Reference values and input gradients for the self-supervised losses, computed once with lightly.

Writes Tests/SiameseTests/Fixtures/ssl_losses_reference.json, which
Tests/SiameseTests/SelfSupervisedLossTests.swift reads. Run it from the repository root:

    python3 -m venv Benchmarks/.venv-ssl
    Benchmarks/.venv-ssl/bin/pip install torch==2.13.0 numpy
    Benchmarks/.venv-ssl/bin/pip install --no-deps lightly==1.6.0
    Benchmarks/.venv-ssl/bin/python Benchmarks/reference/ssl_losses_reference.py

How the numbers are made
- Inputs are float32 samples from seeded torch generators, written to the JSON exactly.
- Values and gradients are float64 PyTorch autograd through lightly's own loss classes
  (NTXentLoss, NegativeCosineSimilarity, BarlowTwinsLoss, VICRegLoss, DINOLoss), so the tests
  measure only the float32 error of our engine against lightly's definition.
- Stop-gradients as lightly's training loops apply them: BYOL/SimSiam targets and DINO's teacher
  outputs are passed detached; their recorded gradient is zero.
- DINO: the centre before the call is an input; the centre lightly holds after its forward (its
  moving-average update) is recorded as `centre_after`.
- VICReg's variance hinge relu(1 − std) is a kink: inputs are redrawn until every feature's std is
  at least GAP from 1, so float32 and float64 take the same branch and finite differences do not
  cross it.
- lightly 1.6 imports torchvision at package import for modules we do not use (dense losses, model
  utilities); torchvision is not needed for these losses, so a placeholder module stands in for it
  and the loss modules are imported from their files.
"""

from __future__ import annotations

import json
import os
import sys
import types
from pathlib import Path

import torch

torch.set_default_dtype(torch.float64)
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests" / "SiameseTests" / "Fixtures" / "ssl_losses_reference.json"
GAP = 2e-2


def _placeholder(name):
    module = types.ModuleType(name)
    module.__path__ = []

    def attribute(attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return type(attr, (), {})

    module.__getattr__ = attribute
    sys.modules[name] = module


try:
    import torchvision  # noqa: F401
except Exception:  # noqa: BLE001 - not installed, or built for another torch
    for name in ["torchvision", "torchvision.ops", "torchvision.transforms", "torchvision.models",
                 "torchvision.transforms.functional", "torchvision.transforms.v2", "torchvision.io",
                 "torchvision.datasets"]:
        _placeholder(name)

import lightly  # noqa: E402

_BASE = os.path.dirname(lightly.__file__)
for _name in ["lightly.loss", "lightly.models", "lightly.models.modules"]:
    if _name not in sys.modules:
        _pkg = types.ModuleType(_name)
        _pkg.__path__ = [os.path.join(_BASE, *_name.split(".")[1:])]
        sys.modules[_name] = _pkg

from lightly.loss.barlow_twins_loss import BarlowTwinsLoss  # noqa: E402
from lightly.loss.dino_loss import DINOLoss  # noqa: E402
from lightly.loss.negative_cosine_similarity import NegativeCosineSimilarity  # noqa: E402
from lightly.loss.ntx_ent_loss import NTXentLoss  # noqa: E402
from lightly.loss.vicreg_loss import VICRegLoss  # noqa: E402


def sample(shape, seed, scale=1.0, shift=0.0):
    g = torch.Generator().manual_seed(seed)
    return ((torch.randn(*shape, generator=g, dtype=torch.float32) * scale) + shift).to(torch.float64)


def as_json(t):
    t = t.detach()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def run(name, loss, params, inputs, forward, extra=None):
    tracked = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    value = forward(tracked)
    value.backward()
    grads = {k: as_json(v.grad if v.grad is not None else torch.zeros_like(v)) for k, v in tracked.items()}
    case = {"name": name, "loss": loss, "params": params, "inputs": {k: as_json(v) for k, v in inputs.items()},
            "value": as_json(value), "grads": grads}
    if extra:
        case.update({k: as_json(v) for k, v in extra().items()})
    return case


def ntxent_cases():
    out = []
    for k, (n, d, temperature, scale) in enumerate([(6, 5, 0.5, 1.0), (8, 4, 0.1, 1.0), (3, 7, 0.2, 3.0), (1, 3, 0.5, 1.0)]):
        inputs = {"view0": sample((n, d), 100 + k, scale), "view1": sample((n, d), 200 + k, scale)}
        loss = NTXentLoss(temperature=temperature)
        out.append(run(f"ntxent n{n} d{d} t{temperature}", "ntxent", {"temperature": temperature}, inputs,
                       lambda t, loss=loss: loss(t["view0"], t["view1"])))
    return out


def negative_cosine_cases():
    out = []
    for k, (n, d) in enumerate([(6, 5), (4, 8), (1, 3)]):
        inputs = {"predictions": sample((n, d), 300 + k), "targets": sample((n, d), 400 + k, 2.0)}
        loss = NegativeCosineSimilarity()
        # BYOL / SimSiam: the target branch is detached by the training loop.
        out.append(run(f"negative cosine n{n} d{d}", "negative_cosine", {}, inputs,
                       lambda t, loss=loss: loss(t["predictions"], t["targets"].detach())))
    return out


def barlow_cases():
    out = []
    for k, (n, d, lam) in enumerate([(8, 4, 5e-3), (6, 6, 0.1), (16, 3, 5e-3)]):
        inputs = {"view0": sample((n, d), 500 + k, 1.5, 0.3), "view1": sample((n, d), 600 + k, 0.7, -0.2)}
        loss = BarlowTwinsLoss(lambda_param=lam)
        out.append(run(f"barlow n{n} d{d} l{lam}", "barlow", {"lambda": lam}, inputs,
                       lambda t, loss=loss: loss(t["view0"], t["view1"])))
    return out


def vicreg_inputs(n, d, seed):
    """Features of mixed spread, so the variance hinge is active on some and not others; redrawn
    until no feature's std sits within GAP of the kink at 1."""
    for attempt in range(1000):
        scales = torch.linspace(0.3, 2.0, d)
        v0 = sample((n, d), seed + 7919 * attempt) * scales.to(torch.float32).to(torch.float64)
        v1 = sample((n, d), seed + 1 + 7919 * attempt) * scales.flip(0).to(torch.float32).to(torch.float64)
        ok = all(abs(float(torch.sqrt(v.var(dim=0)[j] + 1e-4)) - 1) > GAP for v in (v0, v1) for j in range(d))
        if ok:
            return {"view0": v0, "view1": v1}
    raise RuntimeError("no VICReg input away from the hinge")


def vicreg_cases():
    out = []
    for k, (n, d, lam, mu, nu) in enumerate([(8, 4, 25.0, 25.0, 1.0), (6, 5, 10.0, 5.0, 2.0), (12, 3, 25.0, 25.0, 1.0)]):
        inputs = vicreg_inputs(n, d, 700 + 10 * k)
        loss = VICRegLoss(lambda_param=lam, mu_param=mu, nu_param=nu)
        out.append(run(f"vicreg n{n} d{d} l{lam} m{mu} n{nu}", "vicreg", {"lambda": lam, "mu": mu, "nu": nu}, inputs,
                       lambda t, loss=loss: loss(t["view0"], t["view1"])))
    return out


def dino_cases():
    out = []
    for k, (views_t, views_s, n, d, tt, ts, m) in enumerate([(2, 2, 5, 6, 0.04, 0.1, 0.9), (2, 4, 4, 5, 0.04, 0.1, 0.9),
                                                             (1, 3, 3, 4, 0.07, 0.2, 0.5)]):
        inputs = {f"teacher{v}": sample((n, d), 800 + 10 * k + v, 0.3) for v in range(views_t)}
        inputs.update({f"student{v}": sample((n, d), 900 + 10 * k + v) for v in range(views_s)})
        centre = sample((d,), 1000 + k, 0.05)
        inputs["centre"] = centre
        loss = DINOLoss(output_dim=d, teacher_temp=tt, warmup_teacher_temp=tt, student_temp=ts, center_momentum=m)

        def forward(t, loss=loss, views_t=views_t, views_s=views_s):
            loss.center = t["centre"].detach().reshape(1, 1, -1).clone()
            teacher = [t[f"teacher{v}"].detach() for v in range(views_t)]   # the EMA teacher: no gradient
            student = [t[f"student{v}"] for v in range(views_s)]
            return loss(teacher, student)

        case = run(f"dino t{views_t} s{views_s} n{n} d{d}", "dino",
                   {"teacher_temperature": tt, "student_temperature": ts, "centre_momentum": m,
                    "teacher_views": views_t, "student_views": views_s}, inputs, forward,
                   extra=lambda loss=loss: {"centre_after": loss.center.reshape(-1)})
        out.append(case)
    return out


def main():
    cases = ntxent_cases() + negative_cosine_cases() + barlow_cases() + vicreg_cases() + dino_cases()
    doc = {
        "generator": "Benchmarks/reference/ssl_losses_reference.py",
        "note": "float64 PyTorch autograd through lightly's loss classes on float32 inputs; gradients w.r.t. every input",
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__, "lightly": lightly.__version__},
        "cases": cases,
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(cases)} cases")
    for c in cases:
        print(f"  {c['name']:<34} value {c['value']['data'][0]:+.6f}")


if __name__ == "__main__":
    main()
