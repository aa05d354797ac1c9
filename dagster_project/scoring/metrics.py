"""Evaluation figures of a churn model (plain numpy; exact definitions, tested on hand-built cases).

- `roc_auc`: probability that a random churned row is scored above a random kept one (ties count
  one half), by the rank-sum (Mann-Whitney) formula.
- `pr_auc`: average precision, the mean of the precision at the rank of each churned row.
- `top_share`: precision and recall among the top `fraction` of rows by score.
- `captured_share`: the share of `events` that the top `fraction` of units hold.
- `brier`: mean squared error of the probabilities.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata


def roc_auc(labels, scores) -> float:
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=float)
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = rankdata(s)  # average ranks: ties count one half
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def pr_auc(labels, scores) -> float:
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=float)
    if y.sum() == 0:
        return float("nan")
    order = np.argsort(-s, kind="mergesort")
    hits = y[order]
    precision_at = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(precision_at[hits].mean())


def top_share(labels, scores, fraction: float) -> tuple[float, float]:
    """(precision, recall) of the top `fraction` of rows by score (at least one row)."""
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=float)
    k = max(1, int(round(len(y) * fraction)))
    top = np.argsort(-s, kind="mergesort")[:k]
    caught = int(y[top].sum())
    return caught / k, (caught / int(y.sum()) if y.sum() else float("nan"))


def captured_share(scores, events, fraction: float) -> float:
    """Share of `events` (a count per unit) held by the top `fraction` of units by score."""
    s = np.asarray(scores, dtype=float)
    e = np.asarray(events, dtype=float)
    if e.sum() == 0:
        return float("nan")
    k = max(1, int(round(len(s) * fraction)))
    top = np.argsort(-s, kind="mergesort")[:k]
    return float(e[top].sum() / e.sum())


def brier(labels, probabilities) -> float:
    y = np.asarray(labels, dtype=float)
    p = np.asarray(probabilities, dtype=float)
    return float(np.mean((p - y) ** 2)) if len(y) else float("nan")


def customer_probability(policy_probabilities) -> float:
    """A customer churns when any policy does: 1 - prod(1 - p) (policies taken as independent)."""
    p = np.clip(np.asarray(policy_probabilities, dtype=float), 0.0, 1.0)
    return float(1.0 - np.prod(1.0 - p))
