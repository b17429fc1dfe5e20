#!/usr/bin/env python3
"""Computes, once, the reference numbers the Evaluation tests compare against.

Inputs are generated here with a fixed seed and committed next to the outputs under
Tests/EvaluationTests/Fixtures/; the Swift tests read both. scikit-learn, scipy and numpy supply the
reference values; where no library function exists (MAP@R, R-precision, the EER threshold rule)
the definition is written out in numpy from scratch, independently of the Swift code.

Setup (once):  python3 -m venv Benchmarks/.venv   # skip if it exists
               Benchmarks/.venv/bin/pip install numpy scipy scikit-learn
Run:           Benchmarks/.venv/bin/python Benchmarks/evaluation/make_reference.py

Re-running rewrites the fixtures; the inputs are seeded, so only a change of library version can
change the numbers (the versions used are recorded in each JSON file).
"""
import hashlib
import json
import os
import struct
from fractions import Fraction

import numpy as np
import scipy
import sklearn
from scipy import stats
from scipy.interpolate import interp1d
from scipy.optimize import brentq
from sklearn import metrics
from sklearn.calibration import _sigmoid_calibration
from sklearn.isotonic import IsotonicRegression

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "Tests", "EvaluationTests", "Fixtures")
rng = np.random.default_rng(20240611)


def write_csv(name, header, rows):
    with open(os.path.join(OUT, name), "w") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(str(v) for v in r) + "\n")


def dump(name, obj):
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True, allow_nan=False)
        f.write("\n")


def finite(a):
    """JSON has no infinity: the first ROC threshold (inf) becomes null."""
    return [None if not np.isfinite(v) else float(v) for v in a]


def none_if_nan(v):
    v = float(v)
    return None if np.isnan(v) else v


# --------------------------------------------------------------------------- verification data
def verification_sets():
    n_g, n_i = 180, 220
    g = rng.normal(1.2, 1.0, n_g)
    i = rng.normal(0.0, 1.0, n_i)
    groups = rng.choice(["north", "south", "east"], n_g + n_i)
    s = np.concatenate([g, i])
    y = np.concatenate([np.ones(n_g, int), np.zeros(n_i, int)])
    perm = rng.permutation(len(s))
    cont = (np.round(s[perm], 9), y[perm], groups[perm])

    # Heavy ties: one decimal place, similarity.
    n_g, n_i = 120, 150
    s = np.concatenate([rng.normal(0.7, 0.15, n_g), rng.normal(0.45, 0.15, n_i)])
    y = np.concatenate([np.ones(n_g, int), np.zeros(n_i, int)])
    perm = rng.permutation(len(s))
    ties = (np.round(s[perm], 1), y[perm], None)

    # Distances (lower is same), ties at two decimals.
    n_g, n_i = 90, 160
    d = np.concatenate([np.abs(rng.normal(0.4, 0.2, n_g)), np.abs(rng.normal(1.0, 0.3, n_i))])
    y = np.concatenate([np.ones(n_g, int), np.zeros(n_i, int)])
    perm = rng.permutation(len(d))
    dist = (np.round(d[perm], 2), y[perm], None)

    # Perfect separation (every target reachable, EER 0).
    s = np.array([0.9, 0.8, 0.85, 0.95, 0.1, 0.2, 0.3, 0.15])
    y = np.array([1, 1, 1, 1, 0, 0, 0, 0])
    sep = (s, y, None)

    # Overlap at the top: the highest score is an impostor, so a small FAR target is unreachable.
    s = np.array([0.99, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1])
    y = np.array([0, 1, 1, 0, 1, 0, 1, 0, 0, 1])
    top = (s, y, None)
    return {"continuous": (cont, "higher_is_same"), "ties": (ties, "higher_is_same"),
            "distance": (dist, "lower_is_same"), "separated": (sep, "higher_is_same"),
            "overlap_top": (top, "higher_is_same")}


def confusion(y, pred):
    tn, fp, fn, tp = metrics.confusion_matrix(y, pred, labels=[0, 1]).ravel()
    return dict(tp=int(tp), fp=int(fp), tn=int(tn), fn=int(fn))


def at_threshold(y, oriented, t_oriented):
    pred = (oriented >= t_oriented).astype(int)
    c = confusion(y, pred)
    mcc_defined = all(v > 0 for v in [c["tp"] + c["fp"], c["tp"] + c["fn"], c["tn"] + c["fp"], c["tn"] + c["fn"]])
    return dict(
        counts=c,
        far=c["fp"] / (c["fp"] + c["tn"]),
        frr=c["fn"] / (c["fn"] + c["tp"]),
        accuracy=float(metrics.accuracy_score(y, pred)),
        precision=none_if_nan(metrics.precision_score(y, pred, zero_division=np.nan)),
        recall=float(metrics.recall_score(y, pred)),
        f1=none_if_nan(metrics.f1_score(y, pred, zero_division=np.nan)),
        mcc=float(metrics.matthews_corrcoef(y, pred)) if mcc_defined else None,
    )


def verification_reference(name, s, y, groups, direction):
    oriented = s if direction == "higher_is_same" else -s
    sign = 1.0 if direction == "higher_is_same" else -1.0
    fpr, tpr, thr = metrics.roc_curve(y, oriented, drop_intermediate=False)
    det_far, det_frr, det_thr = metrics.det_curve(y, oriented, drop_intermediate=False)
    n_g, n_i = int(y.sum()), int(len(y) - y.sum())
    # Rule boundaries are decided on exact fractions: 1 - 171/180 is 0.05000000000000004 in floating
    # point, and a target of 0.05 must admit exactly 9 false rejects out of 180.
    fp_count = np.rint(fpr * n_i).astype(int)
    fn_count = n_g - np.rint(tpr * n_g).astype(int)
    far_exact = [Fraction(int(v), n_i) for v in fp_count]
    frr_exact = [Fraction(int(v), n_g) for v in fn_count]
    fnr = 1 - tpr
    # EER: where the piecewise-linear ROC crosses FNR = FPR, found with a root finder.
    roc_interp = interp1d(fpr, tpr)
    eer = brentq(lambda x: 1.0 - x - roc_interp(x), 0.0, 1.0, xtol=1e-14)
    # EER threshold: the real operating point minimising max(FAR, FRR), then |FAR - FRR|, then the
    # stricter threshold (earliest in roc_curve's descending order). Point 0 (inf) is not a threshold.
    best = None
    for k in range(1, len(thr)):
        key = (max(fpr[k], fnr[k]), abs(fpr[k] - fnr[k]), k)
        if best is None or key < best[0]:
            best = (key, k)
    eer_k = best[1]

    rules = {}
    # target FAR: most permissive point with fpr <= target and tpr > 0 (max tpr; first reaching it).
    for target in [0.2, 0.05, 0.01, 0.001]:
        ok = [k for k in range(1, len(thr)) if far_exact[k] <= Fraction(repr(target)) and tpr[k] > 0]
        if ok:
            k = min(ok, key=lambda k: (-tpr[k], k))
            rules[f"target_far:{target}"] = dict(threshold=float(sign * thr[k]), **at_threshold(y, oriented, thr[k]))
        else:
            rules[f"target_far:{target}"] = None
    # target FRR: strictest point with fnr <= target and fpr < 1.
    for target in [0.2, 0.05, 0.01]:
        ok = [k for k in range(1, len(thr)) if frr_exact[k] <= Fraction(repr(target)) and fp_count[k] < n_i]
        if ok:
            k = min(ok)
            rules[f"target_frr:{target}"] = dict(threshold=float(sign * thr[k]), **at_threshold(y, oriented, thr[k]))
        else:
            rules[f"target_frr:{target}"] = None
    acc = [metrics.accuracy_score(y, (oriented >= thr[k]).astype(int)) for k in range(1, len(thr))]
    k = 1 + int(np.argmax(acc))
    rules["max_accuracy"] = dict(threshold=float(sign * thr[k]), **at_threshold(y, oriented, thr[k]))
    f1 = [metrics.f1_score(y, (oriented >= thr[k]).astype(int), zero_division=0.0) for k in range(1, len(thr))]
    k = 1 + int(np.argmax(f1))
    rules["max_f1"] = dict(threshold=float(sign * thr[k]), **at_threshold(y, oriented, thr[k]))
    rules["eer"] = dict(threshold=float(sign * thr[eer_k]), **at_threshold(y, oriented, thr[eer_k]))

    fixed = {}
    for q in [0.1, 0.5, 0.9]:
        t = float(np.quantile(s, q))
        fixed[repr(t)] = dict(threshold=t, **at_threshold(y, oriented, sign * t))

    out = dict(
        direction=direction, genuine=n_g, impostor=n_i,
        auc=float(metrics.roc_auc_score(y, oriented)),
        average_precision=float(metrics.average_precision_score(y, oriented)),
        roc=dict(far=fpr.tolist(), tar=tpr.tolist(), thresholds=finite(sign * thr)),
        det=dict(far=det_far.tolist(), frr=det_frr.tolist(), thresholds=finite(sign * det_thr)),
        eer=float(eer), eer_threshold=float(sign * thr[eer_k]),
        rules=rules, fixed=fixed,
        fingerprint="sha256:" + hashlib.sha256(b"".join(struct.pack("<d", float(v)) + bytes([int(l)]) for v, l in zip(s, y))).hexdigest(),
    )
    if groups is not None:
        t = rules["eer"]["threshold"]
        per = {}
        for gname in sorted(set(groups)):
            m = groups == gname
            pred = (oriented[m] >= sign * t).astype(int)
            c = confusion(y[m], pred)
            ci_far = stats.binomtest(c["fp"], c["fp"] + c["tn"]).proportion_ci(0.95, method="wilson")
            ci_frr = stats.binomtest(c["fn"], c["fn"] + c["tp"]).proportion_ci(0.95, method="wilson")
            per[gname] = dict(counts=c, far=c["fp"] / (c["fp"] + c["tn"]), frr=c["fn"] / (c["fn"] + c["tp"]),
                              far_ci=[ci_far.low, ci_far.high], frr_ci=[ci_frr.low, ci_frr.high])
        out["groups_at_eer_threshold"] = per
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    versions = dict(numpy=np.__version__, scipy=scipy.__version__, sklearn=sklearn.__version__)

    sets = verification_sets()
    ver = {}
    for name, ((s, y, groups), direction) in sets.items():
        header = ["id", "score", "label"] + (["group"] if groups is not None else [])
        rows = [[k, repr(float(v)), int(l)] + ([groups[k]] if groups is not None else []) for k, (v, l) in enumerate(zip(s, y))]
        write_csv(f"pairs_{name}.csv", header, rows)
        ver[name] = verification_reference(name, s.astype(float), y, groups, direction)
    dump("verification_reference.json", dict(versions=versions, sets=ver))

    # ----------------------------------------------------------------- probability calibration
    prob = {}
    for name in ["continuous", "ties", "distance"]:
        (s, y, _), direction = sets[name]
        a, b = _sigmoid_calibration(s, y)
        probes = np.linspace(s.min() - 0.5, s.max() + 0.5, 25)
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0, increasing=(direction == "higher_is_same"))
        iso.fit(s, y)
        prob[name] = dict(platt_a=float(a), platt_b=float(b), probes=probes.tolist(),
                          platt=(1.0 / (1.0 + np.exp(a * probes + b))).tolist(), isotonic=iso.predict(probes).tolist())
    dump("probability_reference.json", dict(versions=versions, sets=prob))

    # ----------------------------------------------------------------- retrieval
    centers = rng.normal(0, 1, (6, 8))
    labels, xs = [], []
    for c in range(6):
        for _ in range(int(rng.integers(6, 12))):
            xs.append(centers[c] + rng.normal(0, 0.9, 8))
            labels.append(f"class{c}")
    xs.append(rng.normal(0, 1, 8))
    labels.append("singleton")  # its query has no relevant item and must be skipped
    x = np.asarray(xs, dtype=np.float32)
    perm = rng.permutation(len(x))
    x, labels = x[perm], [labels[p] for p in perm]
    np.save(os.path.join(OUT, "retrieval_embeddings.npy"), x)
    with open(os.path.join(OUT, "retrieval_labels.txt"), "w") as f:
        f.write("\n".join(labels) + "\n")
    ret = {}
    xn = x.astype(np.float64)
    xn /= np.linalg.norm(xn, axis=1, keepdims=True)
    lab = np.array(labels)
    n = len(x)
    gallery_idx = np.arange(n)
    q_idx_split, g_idx_split = np.arange(0, n, 3), np.setdiff1d(np.arange(n), np.arange(0, n, 3))
    for mode, queries, gallery in [("leave_one_out", gallery_idx, gallery_idx), ("query_gallery", q_idx_split, g_idx_split)]:
        for k in [1, 5, 10]:
            sums = dict(precision_at_1=0, hit_rate_at_k=0, recall_at_k=0, r_precision=0, map_at_r=0, mrr_at_k=0, ndcg_at_k=0,
                        mean_average_precision=0)
            evaluated = 0
            min_gap = np.inf
            for q in queries:
                cand = np.array([j for j in gallery if not (mode == "leave_one_out" and j == q)])
                sims = xn[cand] @ xn[q]
                rel = (lab[cand] == lab[q]).astype(int)
                R = int(rel.sum())
                if R == 0:
                    continue
                evaluated += 1
                order = np.argsort(-sims, kind="stable")
                # Only the order between relevant and non-relevant items changes the metrics.
                if R < len(rel):
                    min_gap = min(min_gap, np.min(np.abs(sims[rel == 1][:, None] - sims[rel == 0][None, :])))
                r_sorted = rel[order]
                sums["precision_at_1"] += r_sorted[0]
                sums["hit_rate_at_k"] += float(r_sorted[:k].sum() > 0)
                sums["recall_at_k"] += r_sorted[:k].sum() / R
                sums["r_precision"] += r_sorted[:R].sum() / R
                cum = np.cumsum(r_sorted)
                prec = cum / np.arange(1, len(cum) + 1)
                sums["map_at_r"] += float((prec[:R] * r_sorted[:R]).sum() / R)
                first = int(np.argmax(r_sorted)) + 1
                sums["mrr_at_k"] += 1.0 / first if first <= k else 0.0
                sums["ndcg_at_k"] += float(metrics.ndcg_score(rel[None, :], sims[None, :], k=k))
                sums["mean_average_precision"] += float(metrics.average_precision_score(rel, sims))
            assert min_gap > 1e-5, "near-tied similarities would make float32 and float64 rankings differ"
            ret[f"{mode}:k={k}"] = dict(queries=evaluated, skipped=len(queries) - evaluated,
                                        **{key: float(v / evaluated) for key, v in sums.items()})
    dump("retrieval_reference.json", dict(versions=versions, query_rows=q_idx_split.tolist(), gallery_rows=g_idx_split.tolist(), results=ret))

    # ----------------------------------------------------------------- STS
    gold = np.round(rng.uniform(0, 5, 40), 0)  # many ties
    pred = np.round(gold / 5 + rng.normal(0, 0.2, 40), 2)
    pred[5] = pred[6]  # a tie on the predicted side too
    dump("sts_reference.json", dict(versions=versions, predicted=pred.tolist(), gold=gold.tolist(),
                                    pearson=float(stats.pearsonr(pred, gold)[0]), spearman=float(stats.spearmanr(pred, gold)[0])))

    # ----------------------------------------------------------------- statistics helpers
    ps = [1e-12, 1e-6, 0.001, 0.02425, 0.05, 0.3, 0.5, 0.7, 0.975, 0.97575, 0.999, 1 - 1e-9]
    wil = []
    for k, nn in [(0, 10), (1, 10), (5, 10), (10, 10), (3, 1000), (0, 1000), (47, 120), (1, 1)]:
        ci = stats.binomtest(k, nn).proportion_ci(0.95, method="wilson")
        wil.append(dict(k=k, n=nn, lower=float(ci.low), upper=float(ci.high)))
    dump("statistics_reference.json", dict(versions=versions, normal_quantile=dict(p=ps, z=[float(stats.norm.ppf(p)) for p in ps]),
                                           wilson=wil,
                                           sha256={m: hashlib.sha256(m.encode()).hexdigest() for m in
                                                   ["", "abc", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "a" * 1000]}))

    # ----------------------------------------------------------------- NPY files written by NumPy
    npy = {}
    arrays = {
        "f4_2d": np.arange(12, dtype=np.float32).reshape(3, 4) / 7,
        "f8_1d": np.array([0.1, -2.5, 1e300, -0.0], dtype=np.float64),
        "i8_1d": np.array([0, -1, 2**62, 7], dtype=np.int64),
        "i4_2d": np.array([[1, -2], [3, 2**31 - 1]], dtype=np.int32),
        "f4_empty": np.zeros((0, 5), dtype=np.float32),
    }
    for key, a in arrays.items():
        np.save(os.path.join(OUT, f"npy_{key}.npy"), a)
        npy[key] = dict(shape=list(a.shape), dtype=a.dtype.str, values=[float(v) if a.dtype.kind == "f" else int(v) for v in a.ravel()])
    for version in [(2, 0), (3, 0)]:
        with open(os.path.join(OUT, f"npy_f4_2d_v{version[0]}.npy"), "wb") as f:
            np.lib.format.write_array(f, arrays["f4_2d"], version=version)
    np.save(os.path.join(OUT, "npy_bad_fortran.npy"), np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)))
    np.save(os.path.join(OUT, "npy_bad_bigendian.npy"), np.arange(3, dtype=">f4"))
    np.save(os.path.join(OUT, "npy_bad_3d.npy"), np.zeros((2, 2, 2), dtype=np.float32))
    np.save(os.path.join(OUT, "npy_bad_uint8.npy"), np.zeros(3, dtype=np.uint8))
    dump("npy_reference.json", dict(versions=versions, arrays=npy))


if __name__ == "__main__":
    main()
