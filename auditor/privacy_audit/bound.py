"""The one-run audit's lower bound on epsilon (Steinke, Nasr & Jagielski, NeurIPS 2023).

m canaries are each included with probability 1/2. The auditor guesses "in"
or "out" for r of them and gets v right. Under (eps, delta)-DP the number of
correct guesses is dominated by Binomial(r, e^eps / (1 + e^eps)), up to a
delta term (their Theorem 3.3), so

    p(eps) = P[Binomial(r, q) >= v] + 2 m delta * max_i P[v - i <= Binomial(r, q) < v] / i

and eps_hat is the largest eps whose p-value is below 1 - confidence.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import binom

SEARCH_STEPS = 60


def p_value(m: int, r: int, v: int, eps: float, delta: float) -> float:
    """Probability of at least ``v`` correct guesses out of ``r`` under (eps, delta)-DP."""
    if not 0 <= v <= r <= m:
        raise ValueError(f"need 0 <= v <= r <= m, got v={v}, r={r}, m={m}")
    if eps < 0 or not 0 <= delta <= 1:
        raise ValueError("need eps >= 0 and 0 <= delta <= 1")
    q = 1.0 / (1.0 + math.exp(-eps))
    tail = float(binom.sf(v - 1, r, q))
    if v == 0 or delta == 0:
        return min(tail, 1.0)
    below = binom.pmf(np.arange(v - 1, -1, -1), r, q)  # P[B = v-1], P[B = v-2], ..., P[B = 0]
    alpha = float(np.max(np.cumsum(below) / np.arange(1, v + 1)))
    return min(tail + 2 * m * delta * alpha, 1.0)


def epsilon_lower_bound(m: int, r: int, v: int, delta: float, confidence: float = 0.95) -> float:
    """Largest eps that the observed guesses reject at ``confidence`` (0 when they reject nothing)."""
    threshold = 1.0 - confidence
    if p_value(m, r, v, 0.0, delta) >= threshold:
        return 0.0
    low, high = 0.0, 1.0
    while p_value(m, r, v, high, delta) < threshold:
        low, high = high, high * 2
        if high > 1e3:
            return low
    for _ in range(SEARCH_STEPS):
        middle = (low + high) / 2
        if p_value(m, r, v, middle, delta) < threshold:
            low = middle
        else:
            high = middle
    return low
