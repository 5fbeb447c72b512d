"""The bias audit on constructed councils whose answer is known."""

from __future__ import annotations

import itertools
import random

from multi_model.council.audit import audit
from multi_model.council.models import BallotRecord
from multi_model.council.tally import aggregate
from tests.council.test_tally import record

SEATS = ["a", "b", "c", "d"]
LENGTHS = {"a": "x" * 400, "b": "x" * 300, "c": "x" * 200, "d": "x" * 100}


def shown_in(order: list[str]) -> dict[str, str]:
    """A label_map showing the seats in `order` ("Response A" first)."""
    return {f"Response {chr(65 + i)}": seat for i, seat in enumerate(order)}


def run_audit(ballots: list[BallotRecord], seed: int = 1):
    return audit(ballots, SEATS, LENGTHS, aggregate(ballots, SEATS), seed)


def test_reviewers_that_keep_the_order_shown_show_a_position_bias() -> None:
    rng = random.Random(3)
    ballots = []
    for i in range(8):
        shown = rng.sample(SEATS, 4)
        ballots.append(record(SEATS[i % 4], shown, label_map=shown_in(shown)))
    position = run_audit(ballots).position
    assert (position.tau, position.earlier_wins, position.favours) == (1.0, 1.0, "earlier")
    reversed_ = [
        record(b.reviewer, list(b.label_map.values())[::-1], label_map=b.label_map) for b in ballots
    ]
    assert run_audit(reversed_).position.favours == "later"


def test_a_ranking_independent_of_the_order_shown_shows_no_position_bias() -> None:
    """Every reviewer ranks a > b > c > d; each of the 24 orders is shown once."""
    ballots = [
        record("a", SEATS, label_map=shown_in(list(p))) for p in itertools.permutations(SEATS)
    ]
    result = run_audit(ballots)
    assert (result.position.tau, result.position.z, result.position.favours) == (
        0.0,
        0.0,
        "neither",
    )
    assert result.position.earlier_wins == 0.5
    assert result.length.favours == "longer" and result.length.tau == 1.0


def test_self_votes_can_change_the_winner_and_the_audit_says_so() -> None:
    ballots = [
        record("a", ["a", "b", "c", "d"]),
        record("b", ["a", "c", "d", "b"]),  # b ranks itself last
        record("c", ["b", "a", "c", "d"]),
        record("d", ["b", "a", "d", "c"]),
    ]
    sp = run_audit(ballots).self_preference
    assert (sp.winner_without_self_votes, sp.winner_with_self_votes) == ("b", "a")
    own = {r.reviewer: (r.own_position, r.others_mean_position) for r in sp.reviewers}
    assert own["b"] == (4, 4 / 3) and own["d"] == (3, 11 / 3)
    assert sp.mean_gap == round(((5 / 3 - 1) + (4 / 3 - 4) + (3 - 3) + (11 / 3 - 3)) / 4, 4)


def test_agreement_names_the_reviewer_against_the_council() -> None:
    ballots = [record(r, SEATS) for r in ("a", "b", "c")] + [record("d", SEATS[::-1])]
    agreement = run_audit(ballots).agreement
    assert agreement.dissenters == ["d"]
    taus = {p.reviewers: p.tau for p in agreement.pairs}
    assert taus[("a", "b")] == 1.0 and taus[("a", "d")] == -1.0
    assert {r.reviewer: r.tau_with_council for r in agreement.reviewers}["d"] == -1.0


def test_strengths_separate_a_clear_winner_and_not_a_split_vote() -> None:
    clear = [record(r, SEATS) for r in SEATS for _ in range(3)]
    strong = run_audit(clear).strengths
    assert [s.seat for s in strong.seats] == SEATS and strong.separable is True
    split = [record("c", ["a", "b", "c", "d"]), record("d", ["b", "a", "c", "d"])]
    weak = run_audit(split).strengths
    assert {s.seat for s in weak.seats[:2]} == {"a", "b"} and weak.separable is False
    assert run_audit(split, seed=1) == run_audit(split, seed=1)


def test_no_valid_ballot_is_an_empty_audit() -> None:
    ballots = [record("a", SEATS, status="invalid")]
    result = run_audit(ballots)
    assert result.ballots == 0 and result.position.tau is None and result.strengths.seats == []
