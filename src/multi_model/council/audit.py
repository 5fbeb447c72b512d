"""The bias audit of one council run, computed from its valid ballots: position bias, length
bias, self-preference, agreement and Bradley-Terry strengths. Pure, no I/O.

The order a reviewer was shown is its labels' order (`anonymize.label_map`: "Response A" first).
Every figure is a Kendall's tau (`stats.kendall_tau`) averaged over ballots, signed so that a
positive value means the named thing is favoured, with a z against "no effect": each ballot's
tau has mean 0 and a known variance (`stats.tau_null_variance`) when the ranking does not
depend on it. For position that null is exact, since every reviewer's shuffle is random; for
length it is not (a longer answer may simply be better), so length is an association, not a
proven bias. `|z| >= Z_DETECT` names a direction ("earlier", "longer"), else "neither".

Self-preference compares each reviewer's place for its own answer with the others' places for
it, and says whether leaving self-votes out of the tally changed the winner. Agreement is
Kendall's W (`tally.kendall_w`, full ballots only), tau between each pair of reviewers over the
answers both ranked, and each reviewer's tau with the council's order; a reviewer with a
negative tau with the council is a dissenter. Strengths are a Bradley-Terry fit over the pairs
each ballot states (its own answer left out as in the tally), with seeded bootstrap intervals;
the top two are "not separable" when their intervals overlap.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import combinations

from pydantic import BaseModel, ConfigDict, Field

from multi_model.council import stats, tally
from multi_model.council.models import AggregateRow, BallotRecord, SelfPreference

Z_DETECT = 1.96  # two-sided 5 %
BOOTSTRAP_ROUNDS = 200


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Bias(_Model):
    tau: float | None = Field(
        description="Mean Kendall's tau per ballot; > 0: the named side is ranked better."
    )
    z: float | None = Field(description="Against no effect; |z| >= 1.96 is 5 % two-sided.")
    favours: str = Field(description='The side favoured at |z| >= 1.96, or "neither".')
    ballots: int = Field(description="Ballots of 2 or more answers that count.")


class PositionBias(Bias):
    earlier_wins: float | None = Field(
        description="Share of answer pairs in which the one shown earlier was ranked better "
        "(0.5: no position bias)."
    )


class SelfPreferenceAudit(_Model):
    reviewers: list[SelfPreference]
    mean_gap: float | None = Field(
        description="Mean of (others' place - own place) for its own answer; > 0: reviewers "
        "rank their own answers better than the others do."
    )
    winner_without_self_votes: str | None
    winner_with_self_votes: str | None


class PairAgreement(_Model):
    reviewers: tuple[str, str]
    tau: float
    common: int = Field(description="Answers both ranked.")


class ReviewerAgreement(_Model):
    reviewer: str
    tau_with_council: float | None = Field(description="Tau with the council's order.")
    mean_tau: float | None = Field(description="Mean tau with the other reviewers.")


class Agreement(_Model):
    kendall_w: float | None
    pairs: list[PairAgreement]
    reviewers: list[ReviewerAgreement]
    dissenters: list[str] = Field(description="Reviewers with a negative tau with the council.")


class Strength(_Model):
    seat: str
    log_strength: float = Field(description="Bradley-Terry, mean 0 over the seats.")
    low: float
    high: float


class Strengths(_Model):
    seats: list[Strength] = Field(description="Strongest first.")
    rounds: int = Field(description="Bootstrap resamples of the ballots (95 % intervals).")
    separable: bool | None = Field(
        description="The top two's intervals do not overlap; None with fewer than two seats."
    )


class Audit(_Model):
    ballots: int = Field(description="Valid ballots the audit read.")
    position: PositionBias
    length: Bias
    self_preference: SelfPreferenceAudit
    agreement: Agreement
    strengths: Strengths


def audit(
    ballots: Sequence[BallotRecord],
    seats: Sequence[str],
    answers: Mapping[str, str],
    rows: Sequence[AggregateRow],
    seed: int,
    exclude_self: bool = True,
    rounds: int = BOOTSTRAP_ROUNDS,
) -> Audit:
    """The audit of a run: `answers` seat -> text (for lengths), `rows` its tally."""
    orders = [(b, tally.full_order(b)) for b in ballots if b.status == "valid"]
    return Audit(
        ballots=len(orders),
        position=position_bias([b for b, _ in orders]),
        length=length_bias(orders, answers),
        self_preference=self_preference(ballots, seats),
        agreement=agreement(ballots, orders, [r.seat for r in rows]),
        strengths=strengths(orders, [r.seat for r in rows], exclude_self, seed, rounds),
    )


def _places(order: Sequence[str]) -> dict[str, float]:
    return {seat: float(i) for i, seat in enumerate(order, 1)}


def _bias(
    per_ballot: list[tuple[float, int]],
    sides: tuple[str, str],
    cls: Callable[..., Bias],
    **kw: object,
) -> Bias:
    usable = [(t, n) for t, n in per_ballot if n >= 2]
    z = stats.pooled_z(usable)
    favours = "neither"
    if z is not None and abs(z) >= Z_DETECT:
        favours = sides[0] if z > 0 else sides[1]
    tau = sum(t for t, _ in usable) / len(usable) if usable else None
    return cls(tau=_r(tau), z=_r(z), favours=favours, ballots=len(usable), **kw)


def position_bias(valid: Sequence[BallotRecord]) -> PositionBias:
    """tau between the order shown and the ranking: > 0 favours answers shown earlier."""
    per_ballot, concordant, pairs = [], 0, 0
    for record in valid:
        assert record.ballot is not None  # valid
        shown = {lb: float(i) for i, lb in enumerate(record.label_map)}
        tau = stats.kendall_tau(shown, _places(record.ballot.ranking))
        n = len(shown)
        if tau is not None:
            per_ballot.append((tau, n))
            total = n * (n - 1) // 2
            concordant += round((tau + 1) / 2 * total)
            pairs += total
    wins = concordant / pairs if pairs else None
    result = _bias(per_ballot, ("earlier", "later"), PositionBias, earlier_wins=_r(wins))
    assert isinstance(result, PositionBias)
    return result


def length_bias(
    orders: Sequence[tuple[BallotRecord, list[str]]], answers: Mapping[str, str]
) -> Bias:
    """tau between answer length and goodness (minus the place): > 0 favours longer answers."""
    per_ballot = []
    for _, order in orders:
        length = {seat: float(len(answers.get(seat, ""))) for seat in order}
        goodness = {seat: -place for seat, place in _places(order).items()}
        tau = stats.kendall_tau(length, goodness)
        if tau is not None:
            per_ballot.append((tau, len(order)))
    return _bias(per_ballot, ("longer", "shorter"), Bias)


def self_preference(ballots: Sequence[BallotRecord], seats: Sequence[str]) -> SelfPreferenceAudit:
    rows = tally.self_preference(ballots, seats)
    gaps = [
        r.others_mean_position - r.own_position for r in rows if r.others_mean_position is not None
    ]
    without = tally.aggregate(ballots, seats, exclude_self=True)
    with_self = tally.aggregate(ballots, seats, exclude_self=False)
    return SelfPreferenceAudit(
        reviewers=rows,
        mean_gap=_r(sum(gaps) / len(gaps)) if gaps else None,
        winner_without_self_votes=_winner(without),
        winner_with_self_votes=_winner(with_self),
    )


def _winner(rows: Sequence[AggregateRow]) -> str | None:
    return rows[0].seat if rows and rows[0].votes else None


def agreement(
    ballots: Sequence[BallotRecord],
    orders: Sequence[tuple[BallotRecord, list[str]]],
    council: Sequence[str],
) -> Agreement:
    """W, pairwise taus and each reviewer's tau with the council's order (full ballots)."""
    places = {b.reviewer: _places(o) for b, o in orders}
    pairs = []
    for a, b in combinations(places, 2):
        tau = stats.kendall_tau(places[a], places[b])
        if tau is not None:
            common = sum(seat in places[b] for seat in places[a])
            pairs.append(PairAgreement(reviewers=(a, b), tau=_r(tau) or 0.0, common=common))
    council_places = _places(council)
    reviewers = []
    for reviewer, mine in places.items():
        taus = [p.tau for p in pairs if reviewer in p.reviewers]
        reviewers.append(
            ReviewerAgreement(
                reviewer=reviewer,
                tau_with_council=_r(stats.kendall_tau(mine, council_places)),
                mean_tau=_r(sum(taus) / len(taus)) if taus else None,
            )
        )
    return Agreement(
        kendall_w=tally.kendall_w(ballots),
        pairs=pairs,
        reviewers=reviewers,
        dissenters=[
            r.reviewer
            for r in reviewers
            if r.tau_with_council is not None and r.tau_with_council < 0
        ],
    )


def strengths(
    orders: Sequence[tuple[BallotRecord, list[str]]],
    seats: Sequence[str],
    exclude_self: bool,
    seed: int,
    rounds: int,
) -> Strengths:
    reduced = [[s for s in o if not (exclude_self and s == b.reviewer)] for b, o in orders]
    reduced = [o for o in reduced if len(o) >= 2]
    if not reduced or len(seats) < 2:
        return Strengths(seats=[], rounds=0, separable=None)
    point = stats.bradley_terry(seats, stats.wins(reduced))
    intervals = stats.bootstrap_bt(seats, reduced, rounds, seed)
    ranked = sorted(seats, key=lambda s: -point[s])
    rows = [
        Strength(
            seat=s,
            log_strength=_r(point[s]) or 0.0,
            low=_r(intervals[s][0]) or 0.0,
            high=_r(intervals[s][1]) or 0.0,
        )
        for s in ranked
    ]
    return Strengths(
        seats=rows, rounds=rounds, separable=intervals[ranked[0]][0] > intervals[ranked[1]][1]
    )


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
