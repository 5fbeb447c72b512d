"""The tally: ballots -> aggregate ranks, self-preference and agreement. Pure, no I/O.

Only ballots with `status == "valid"` count; invalid, missing and failed ballots are ignored
(never guessed). Each valid ballot is de-anonymized through its own `label_map`.

Aggregate (`aggregate`), per ballot: with `exclude_self` (the default) the reviewer's own answer
(the seat whose id equals `BallotRecord.reviewer`) is removed from the ranking and the rest are
re-numbered 1..m, so a ballot says only how its reviewer ordered the *others*. Per seat:
- mean_rank: mean of its positions (lower is better); None when no ballot ranked it;
- borda: sum over ballots of (m - position), m the size of that (reduced) ballot;
- votes: ballots that ranked it; first_places: ballots that put it at position 1.
mean_rank is reported unrounded (the float nearest the exact fraction); rounding is for display.
Rows are the seats that have an answer, i.e. appear in at least one ballot's `label_map`
(whatever that ballot's status: every reviewer is shown the answers before it votes); a seat
with an answer that no valid ballot ranked gets a row with mean_rank None.

Tie rule (total, so every row gets a distinct place 1..n), compare in order:
1. lower mean_rank (compared exactly, as fractions; None sorts last);
2. higher Borda;
3. more first places;
4. earlier in panel order (the `seats` argument).

Self-preference (`self_preference`): for each valid ballot that ranks its reviewer's own answer,
the position it gave itself vs the mean position the other reviewers' valid ballots gave that
answer, both on the full-ballot scale 1..n.

Agreement (`kendall_w`): Kendall's W over the valid ballots' full rankings (self-votes kept, since
W measures how alike the rankings are): W = 12 S / (m^2 (n^3 - n)), m ballots, n seats, S the sum
of squared deviations of the seats' rank sums from their mean. 1 = unanimous, 0 = no agreement.
None when there are fewer than 2 valid ballots or 2 seats, or when the valid ballots do not all
rank the same set of seats (W is undefined for incomplete rankings; no imputation is guessed).

A valid ballot with no ranking, a ranking that is not a permutation of its label_map's labels, or
a label_map that shows a seat twice or names a seat outside the panel (`seats`; aggregate and
self_preference) is a bug upstream: ValueError, not a silent skip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from multi_model.council.models import AggregateRow, BallotRecord, SelfPreference


@dataclass
class _Score:
    """Running totals for one seat; positions are on the (reduced) ballot scale."""

    positions: list[int] = field(default_factory=list)
    borda: int = 0
    first_places: int = 0

    def mean(self) -> Fraction | None:
        return Fraction(sum(self.positions), len(self.positions)) if self.positions else None


def full_order(record: BallotRecord) -> list[str]:
    """A valid ballot's ranking as seat ids, best first. Raises ValueError if inconsistent."""
    if record.ballot is None:
        raise ValueError(f"valid ballot from {record.reviewer!r} has no ranking")
    if len(set(record.label_map.values())) != len(record.label_map):
        raise ValueError(f"label_map of {record.reviewer!r} shows a seat twice")
    ranking = record.ballot.ranking
    if sorted(ranking) != sorted(record.label_map):
        raise ValueError(
            f"ballot from {record.reviewer!r} ranks {ranking}, "
            f"not a permutation of {sorted(record.label_map)}"
        )
    return [record.label_map[label] for label in ranking]


def _valid_orders(ballots: Sequence[BallotRecord]) -> list[tuple[BallotRecord, list[str]]]:
    return [(b, full_order(b)) for b in ballots if b.status == "valid"]


def _answered(ballots: Sequence[BallotRecord], seats: Sequence[str]) -> list[str]:
    """Seats present in some label_map, in panel order. Raises ValueError on an unknown seat."""
    shown = {seat for b in ballots for seat in b.label_map.values()}
    unknown = shown - set(seats)
    if unknown:
        raise ValueError(f"label_map names seats outside the panel: {sorted(unknown)}")
    return [seat for seat in dict.fromkeys(seats) if seat in shown]


def _score(
    orders: list[tuple[BallotRecord, list[str]]], answered: list[str], exclude_self: bool
) -> dict[str, _Score]:
    scores = {seat: _Score() for seat in answered}
    for record, order in orders:
        reduced = [s for s in order if not (exclude_self and s == record.reviewer)]
        for position, seat in enumerate(reduced, start=1):
            score = scores[seat]
            score.positions.append(position)
            score.borda += len(reduced) - position
            score.first_places += position == 1
    return scores


def _tie_key(score: _Score, panel_index: int) -> tuple[bool, Fraction, int, int, int]:
    mean = score.mean()
    return (
        mean is None,
        mean if mean is not None else Fraction(0),
        -score.borda,
        -score.first_places,
        panel_index,
    )


def aggregate(
    ballots: Sequence[BallotRecord], seats: Sequence[str], exclude_self: bool = True
) -> list[AggregateRow]:
    """Rows for the answered seats, best first, places 1..n by the module's tie rule."""
    answered = _answered(ballots, seats)
    scores = _score(_valid_orders(ballots), answered, exclude_self)
    index = {seat: i for i, seat in enumerate(answered)}
    ranked = sorted(answered, key=lambda s: _tie_key(scores[s], index[s]))
    rows = []
    for place, seat in enumerate(ranked, start=1):
        score, mean = scores[seat], scores[seat].mean()
        rows.append(
            AggregateRow(
                seat=seat,
                place=place,
                mean_rank=None if mean is None else float(mean),
                borda=float(score.borda),
                votes=len(score.positions),
                first_places=score.first_places,
            )
        )
    return rows


def self_preference(ballots: Sequence[BallotRecord], seats: Sequence[str]) -> list[SelfPreference]:
    """Per valid ballot ranking its reviewer's own answer, in ballot order: where the reviewer put
    it vs the mean position other reviewers gave it (full-ballot scale; None if nobody else)."""
    _answered(ballots, seats)  # same validation as aggregate
    orders = _valid_orders(ballots)
    result = []
    for record, order in orders:
        if record.reviewer not in order:
            continue
        others = [
            o.index(record.reviewer) + 1
            for r, o in orders
            if r.reviewer != record.reviewer and record.reviewer in o
        ]
        result.append(
            SelfPreference(
                reviewer=record.reviewer,
                own_position=order.index(record.reviewer) + 1,
                others_mean_position=float(Fraction(sum(others), len(others))) if others else None,
            )
        )
    return result


def kendall_w(ballots: Sequence[BallotRecord]) -> float | None:
    """Kendall's W of the valid full rankings, rounded to 4 decimals; None when undefined."""
    orders = [order for _, order in _valid_orders(ballots)]
    if len(orders) < 2 or len(orders[0]) < 2:
        return None
    if any(set(order) != set(orders[0]) for order in orders):
        return None
    m, n = len(orders), len(orders[0])
    rank_sums = {seat: 0 for seat in orders[0]}
    for order in orders:
        for position, seat in enumerate(order, start=1):
            rank_sums[seat] += position
    mean_sum = Fraction(m * (n + 1), 2)
    s = sum((Fraction(r) - mean_sum) ** 2 for r in rank_sums.values())
    return round(float(12 * s / (m * m * (n**3 - n))), 4)
