"""The audit's statistics against published worked examples, scipy's values and exact
enumeration."""

from __future__ import annotations

import itertools
import math

import pytest

from multi_model.council import stats
from multi_model.council.tally import kendall_w
from tests.council.test_tally import record

# InfluentialPoints, "Kendall coefficient of concordance", worked example I: four raters rank
# strawberries from eight farms (1 = best); W = 0.744. One row per rater, one column per farm.
STRAWBERRIES = [
    [8, 4, 2, 3, 5, 1, 6, 7],
    [7, 3, 1, 4, 5, 2, 6, 8],
    [8, 2, 5, 6, 7, 1, 4, 3],
    [8, 3, 4, 2, 5, 1, 6, 7],
]
# scipy.stats.kendalltau 1.17.1 on each pair of those raters
SCIPY_TAUS = {
    (0, 1): 0.7857142857142856,
    (0, 2): 0.3571428571428571,
    (0, 3): 0.8571428571428571,
    (1, 2): 0.2857142857142857,
    (1, 3): 0.6428571428571428,
    (2, 3): 0.3571428571428571,
}


def ballots_of(table: list[list[int]]) -> list:
    """One valid ballot per row of ranks (column j = item j)."""
    items = [f"item{j}" for j in range(len(table[0]))]
    return [
        record(f"rater{i}", [items[j] for j in sorted(range(len(row)), key=row.__getitem__)])
        for i, row in enumerate(table)
    ]


def test_kendall_w_matches_the_published_examples() -> None:
    assert kendall_w(ballots_of(STRAWBERRIES)) == 0.744  # 500 / 672, rounded as published
    # ProofWiki, "Kendall's Coefficient of Concordance/Examples/Arbitrary Example 1": 4 judges,
    # 3 competitors (ranks of X, Y, Z per judge); W = 1/16
    judges = [[1, 3, 2], [1, 2, 3], [2, 3, 1], [3, 1, 2]]
    assert kendall_w(ballots_of(judges)) == round(1 / 16, 4)


@pytest.mark.parametrize(("a", "b"), list(SCIPY_TAUS))
def test_kendall_tau_matches_scipy(a: int, b: int) -> None:
    x, y = (dict(enumerate(STRAWBERRIES[i])) for i in (a, b))
    assert stats.kendall_tau(x, y) == pytest.approx(SCIPY_TAUS[(a, b)], abs=1e-12)


def test_kendall_tau_bounds_and_shared_keys() -> None:
    ranks = {"a": 1, "b": 2, "c": 3}
    assert stats.kendall_tau(ranks, ranks) == 1
    assert stats.kendall_tau(ranks, {k: -v for k, v in ranks.items()}) == -1
    assert stats.kendall_tau(ranks, {"a": 2, "b": 1, "z": 0}) == -1  # only a, b shared
    assert stats.kendall_tau(ranks, {"a": 1, "z": 2}) is None


@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_the_null_variance_is_exact(n: int) -> None:
    """Over every permutation, tau against the identity has mean 0 and the stated variance."""
    identity = {i: i for i in range(n)}
    taus = [
        stats.kendall_tau(identity, dict(enumerate(p))) for p in itertools.permutations(range(n))
    ]
    mean = sum(taus) / len(taus)
    assert mean == pytest.approx(0, abs=1e-12)
    assert sum(t * t for t in taus) / len(taus) == pytest.approx(stats.tau_null_variance(n))


def test_bradley_terry_is_the_maximum_likelihood_fit() -> None:
    # two items, 3 wins to 1: p_a / p_b = 3 exactly
    plain = stats.bradley_terry(["a", "b"], [("a", "b")] * 3 + [("b", "a")], prior=0)
    assert plain["a"] - plain["b"] == pytest.approx(math.log(3))
    # three items: the fit solves the likelihood equations (wins = expected wins per item)
    games = (
        [("a", "b")] * 5
        + [("b", "a")] * 2
        + [("b", "c")] * 4
        + [("c", "b")]
        + [("a", "c")] * 3
        + [("c", "a")] * 2
    )
    s = stats.bradley_terry(["a", "b", "c"], games, prior=0)
    for item in "abc":
        won = sum(w == item for w, _ in games)
        expected = sum(
            1 / (1 + math.exp(s[other] - s[item]))
            for w, lo in games
            for other in ({w, lo} - {item})
            if item in (w, lo)
        )
        assert won == pytest.approx(expected, abs=1e-6)
    assert sum(s.values()) == pytest.approx(0, abs=1e-12)


def test_the_prior_keeps_an_undefeated_item_finite() -> None:
    s = stats.bradley_terry(["a", "b", "c"], stats.wins([["a", "b", "c"]] * 3))
    assert s["a"] > s["b"] > s["c"] and all(math.isfinite(v) for v in s.values())


def test_the_bootstrap_is_seeded_and_brackets_the_fit() -> None:
    orders = [["a", "b", "c"], ["a", "c", "b"], ["b", "a", "c"], ["a", "b", "c"]]
    one = stats.bootstrap_bt(["a", "b", "c"], orders, 100, seed=7)
    assert one == stats.bootstrap_bt(["a", "b", "c"], orders, 100, seed=7)
    assert one != stats.bootstrap_bt(["a", "b", "c"], orders, 100, seed=8)
    point = stats.bradley_terry(["a", "b", "c"], stats.wins(orders))
    for item, (low, high) in one.items():
        assert low <= point[item] <= high
