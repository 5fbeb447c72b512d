"""The small statistics the council audit needs: Kendall's tau between rankings, its variance
under no association, a Bradley-Terry fit and a seeded bootstrap of it. Pure, stdlib only.

Hand-written rather than scipy: scipy and numpy are 52 MB of wheels (158 MB installed, 7 s to
install from a warm cache) against a few dozen lines here, for rankings without ties of at most
a few dozen items. Tested against published worked examples and against scipy's values.
"""

from __future__ import annotations

import math
import random
from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

K = TypeVar("K", bound=Hashable)
Pair = tuple[str, str]  # (winner, loser)
BT_PRIOR = 1.0  # virtual games, half won, each item plays a reference of strength 1
BT_TOL = 1e-9
BT_MAX_ITER = 100


def kendall_tau(x: Mapping[K, float], y: Mapping[K, float]) -> float | None:
    """Kendall's tau (tau-a; -1..1) between two scorings of the keys they share; None when they
    share fewer than 2. Ties count as neither concordant nor discordant (rankings have none)."""
    common = [k for k in x if k in y]
    n = len(common)
    if n < 2:
        return None
    s = 0
    for i in range(n):
        for j in range(i + 1, n):
            a, b = common[i], common[j]
            s += _sign(x[a] - x[b]) * _sign(y[a] - y[b])
    return s / (n * (n - 1) / 2)


def _sign(v: float) -> int:
    return (v > 0) - (v < 0)


def tau_null_variance(n: int) -> float:
    """Variance of Kendall's tau between a ranking of n items and an independent uniformly
    random one: 2(2n + 5) / (9n(n - 1)) (Kendall 1938). Raises ValueError for n < 2."""
    if n < 2:
        raise ValueError(f"tau needs at least 2 items, got {n}")
    return 2 * (2 * n + 5) / (9 * n * (n - 1))


def pooled_z(taus: Sequence[tuple[float, int]]) -> float | None:
    """z of the sum of per-ballot taus (tau, n items) against the null that each is
    independent of the other scoring; None without any ballot of 2 or more items."""
    usable = [(t, n) for t, n in taus if n >= 2]
    if not usable:
        return None
    return sum(t for t, _ in usable) / math.sqrt(sum(tau_null_variance(n) for _, n in usable))


def wins(orders: Sequence[Sequence[str]]) -> list[Pair]:
    """Every (winner, loser) pair the rankings (best first) state."""
    return [(o[i], o[j]) for o in orders for i in range(len(o)) for j in range(i + 1, len(o))]


def bradley_terry(
    items: Sequence[str], pairs: Sequence[Pair], prior: float = BT_PRIOR
) -> dict[str, float]:
    """Bradley-Terry log-strengths (mean 0; P(i beats j) = 1 / (1 + exp(s_j - s_i))), the
    maximum of the log-likelihood by damped Newton steps. `prior` adds that many virtual games
    per item against a reference of strength 1 (log-strength 0), half of them won: it keeps
    the fit finite when an item wins or loses every game; 0 gives the plain maximum-likelihood
    fit (which then must exist: every item won and lost something, the games connected)."""
    index = {item: i for i, item in enumerate(items)}
    n = len(items)
    games = [[0.0] * n for _ in range(n)]
    won = [prior / 2] * n
    for winner, loser in pairs:
        w, lo = index[winner], index[loser]
        won[w] += 1
        games[w][lo] += 1
        games[lo][w] += 1
    theta = [0.0] * n
    free = list(range(1 if prior == 0 else 0, n))  # without a prior, item 0 pins the scale
    current = _log_likelihood(theta, games, won, prior)
    for _ in range(BT_MAX_ITER):
        grad, hess = _derivatives(theta, games, won, prior)
        step = _solve([[-hess[i][j] for j in free] for i in free], [grad[i] for i in free])
        scale = 1.0
        while True:
            trial = list(theta)
            for k, i in enumerate(free):
                trial[i] += scale * step[k]
            value = _log_likelihood(trial, games, won, prior)
            if value >= current - 1e-12 or scale < 1e-6:
                break
            scale /= 2
        change = max((abs(scale * d) for d in step), default=0.0)
        theta, current = trial, value
        if change < BT_TOL:
            break
    mean = sum(theta) / n if n else 0.0
    return {item: theta[index[item]] - mean for item in items}


def _log_likelihood(
    theta: list[float], games: list[list[float]], won: list[float], prior: float
) -> float:
    n = len(theta)
    total = sum(won[i] * theta[i] - prior * _softplus(theta[i]) for i in range(n))
    for i in range(n):
        for j in range(i + 1, n):
            if games[i][j]:
                total -= games[i][j] * _logaddexp(theta[i], theta[j])
    return total


def _derivatives(
    theta: list[float], games: list[list[float]], won: list[float], prior: float
) -> tuple[list[float], list[list[float]]]:
    n = len(theta)
    grad = [won[i] - prior * _sigmoid(theta[i]) for i in range(n)]
    hess = [[0.0] * n for _ in range(n)]
    for i in range(n):
        s = _sigmoid(theta[i])
        hess[i][i] -= prior * s * (1 - s)
        for j in range(n):
            if j != i and games[i][j]:
                p = _sigmoid(theta[i] - theta[j])
                grad[i] -= games[i][j] * p
                hess[i][i] -= games[i][j] * p * (1 - p)
                hess[i][j] += games[i][j] * p * (1 - p)
    return grad, hess


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """x with a x = b, by Gaussian elimination with partial pivoting (a is small and positive
    definite here)."""
    n = len(b)
    m = [[*row, b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(col + 1, n):
            f = m[r][col] / m[col][col]
            for c in range(col, n + 1):
                m[r][c] -= f * m[col][c]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - sum(m[r][c] * x[c] for c in range(r + 1, n))) / m[r][r]
    return x


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    e = math.exp(x)
    return e / (1 + e)


def _softplus(x: float) -> float:
    """log(1 + e^x) without overflow."""
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def _logaddexp(a: float, b: float) -> float:
    return max(a, b) + math.log1p(math.exp(-abs(a - b)))


def bootstrap_bt(
    items: Sequence[str],
    orders: Sequence[Sequence[str]],
    rounds: int,
    seed: int,
    level: float = 0.95,
) -> dict[str, tuple[float, float]]:
    """Percentile intervals of each item's Bradley-Terry log-strength, resampling the rankings
    with replacement `rounds` times from `random.Random(seed)`."""
    rng = random.Random(seed)
    draws: dict[str, list[float]] = {i: [] for i in items}
    for _ in range(rounds):
        sample = [orders[rng.randrange(len(orders))] for _ in orders]
        for item, value in bradley_terry(items, wins(sample)).items():
            draws[item].append(value)
    return {i: _interval(sorted(v), level) for i, v in draws.items()}


def _interval(values: list[float], level: float) -> tuple[float, float]:
    if not values:
        return (0.0, 0.0)
    tail = (1 - level) / 2
    return (_quantile(values, tail), _quantile(values, 1 - tail))


def _quantile(values: list[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default)."""
    at = q * (len(values) - 1)
    low = math.floor(at)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (at - low)
