"""Verification and retrieval metrics for a set of test embeddings, computed the same way for
every system: AUC and EER over all test pairs (cosine), precision@1 (leave-one-out), and
3-way 1-shot accuracy over 2,000 seeded episodes."""
import numpy as np
from sklearn.metrics import roc_auc_score, roc_curve


def evaluate(emb: np.ndarray, labels: np.ndarray, seed: int = 0) -> dict:
    e = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    sims = e @ e.T
    iu = np.triu_indices(len(labels), k=1)
    scores = sims[iu]
    same = (labels[:, None] == labels[None, :])[iu].astype(int)
    auc = roc_auc_score(same, scores)
    far, tar, _ = roc_curve(same, scores)
    frr = 1 - tar
    i = np.argmin(np.abs(far - frr))
    eer = (far[i] + frr[i]) / 2
    s = sims.copy()
    np.fill_diagonal(s, -np.inf)
    p1 = float(np.mean(labels[np.argmax(s, axis=1)] == labels))
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    correct = 0
    episodes = 2000
    for _ in range(episodes):
        ways = rng.choice(classes, 3, replace=False)
        support, query_class = [], rng.integers(3)
        query = None
        for k, c in enumerate(ways):
            members = np.flatnonzero(labels == c)
            picks = rng.choice(members, 2 if k == query_class else 1, replace=False)
            support.append(picks[0])
            if k == query_class:
                query = picks[1]
        correct += int(np.argmax(sims[query, support]) == query_class)
    return {"auc": float(auc), "eer": float(eer), "precision_at_1": p1, "one_shot_3way": correct / episodes}
