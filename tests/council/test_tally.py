"""The tally: property loops over seeded random councils, constructed ties, a hand-worked case."""

from __future__ import annotations

import itertools
import random
from fractions import Fraction
from functools import cmp_to_key

import pytest

from multi_model.council.models import AggregateRow, Ballot, BallotRecord, SelfPreference
from multi_model.council.tally import aggregate, kendall_w, self_preference

CASES = 300
POOL = [
    "codex:gpt-5.4",
    "gemini",
    "claude:opus",
    "agy",
    "cursor-agent:auto",
    "codex:gpt-5.4#2",
    "qwen",
]
NOT_VALID = ("invalid", "missing", "failed")


def labels_for(rng: random.Random, seats: list[str], letters: str = "ABCDEFGHIJ") -> dict[str, str]:
    """A shuffled label_map: label -> seat."""
    shown = rng.sample(seats, len(seats))
    return {f"Response {letters[i]}": seat for i, seat in enumerate(shown)}


def record(
    reviewer: str,
    order: list[str],
    rng: random.Random | None = None,
    status: str = "valid",
    label_map: dict[str, str] | None = None,
) -> BallotRecord:
    """A ballot by `reviewer` ranking the seats `order` (best first) under shuffled labels."""
    label_map = label_map or labels_for(rng or random.Random(0), order)
    label_of = {seat: label for label, seat in label_map.items()}
    ranking = [label_of[seat] for seat in order]
    return BallotRecord(
        reviewer=reviewer,
        seed=0,
        label_map=label_map,
        status=status,
        ballot=Ballot(token="t", ranking=ranking, critiques={lb: "ok" for lb in ranking}),
    )


def junk(rng: random.Random, reviewer: str, answered: list[str]) -> BallotRecord:
    """A not-valid ballot; sometimes carrying a ranking that would matter if it were counted."""
    status = rng.choice(NOT_VALID)
    if rng.random() < 0.5:
        return BallotRecord(
            reviewer=reviewer,
            seed=1,
            label_map=labels_for(rng, answered),
            status=status,
            error="no reply",
            errors=["bad"],
            attempts=2,
        )
    return record(reviewer, rng.sample(answered, len(answered)), rng, status=status)


def random_council(rng: random.Random, junk_rate: float = 0.25):
    """(panel, ballots): a random panel, the seats that answered, and one ballot per reviewer."""
    panel = rng.sample(POOL, rng.randint(2, 6))
    answered = rng.sample(panel, rng.randint(1, len(panel)))
    ballots = []
    for reviewer in rng.sample(panel, rng.randint(1, len(panel))):
        if rng.random() < junk_rate:
            ballots.append(junk(rng, reviewer, answered))
        else:
            ballots.append(record(reviewer, rng.sample(answered, len(answered)), rng))
    return panel, ballots


def relabel(rng: random.Random, rec: BallotRecord) -> BallotRecord:
    """The same ballot under other label letters (a bijection applied to map, ranking,
    critiques)."""
    letters = rng.sample("ABCDEFGHIJKLMNOP", len(rec.label_map))
    new = dict(zip(rec.label_map, (f"Response {c}" for c in letters), strict=True))
    ballot = rec.ballot and Ballot(
        token="t",
        ranking=[new[lb] for lb in rec.ballot.ranking],
        critiques={new[lb]: c for lb, c in rec.ballot.critiques.items()},
    )
    return rec.model_copy(
        update={"label_map": {new[lb]: s for lb, s in rec.label_map.items()}, "ballot": ballot}
    )


def all_results(ballots, panel):
    return (
        aggregate(ballots, panel),
        aggregate(ballots, panel, exclude_self=False),
        self_preference(ballots, panel),
        kendall_w(ballots),
    )


# --- an independent, deliberately naive reference for the aggregate and its tie rule ---------


def reference_aggregate(ballots, panel, exclude_self=True):
    answered = [s for s in panel if any(s in b.label_map.values() for b in ballots)]
    stats = {}
    for seat in answered:
        positions, borda, firsts = [], 0, 0
        for b in ballots:
            if b.status != "valid":
                continue
            seen = [b.label_map[lb] for lb in b.ballot.ranking]
            if exclude_self:
                seen = [s for s in seen if s != b.reviewer]
            if seat in seen:
                p = seen.index(seat) + 1
                positions.append(p)
                borda += len(seen) - p
                firsts += p == 1
        mean = Fraction(sum(positions), len(positions)) if positions else None
        stats[seat] = (mean, borda, firsts, len(positions))

    def cmp(x, y):
        (mx, bx, fx, _), (my, by, fy, _) = stats[x], stats[y]
        if (mx is None) != (my is None):
            return 1 if mx is None else -1
        if mx is not None and mx != my:
            return -1 if mx < my else 1
        if bx != by:
            return -1 if bx > by else 1
        if fx != fy:
            return -1 if fx > fy else 1
        return answered.index(x) - answered.index(y)

    order = sorted(answered, key=cmp_to_key(cmp))
    return [
        AggregateRow(
            seat=s,
            place=i,
            mean_rank=None if stats[s][0] is None else float(stats[s][0]),
            borda=stats[s][1],
            votes=stats[s][3],
            first_places=stats[s][2],
        )
        for i, s in enumerate(order, start=1)
    ]


def reference_self_preference(ballots):
    valid = [
        (b, [b.label_map[lb] for lb in b.ballot.ranking]) for b in ballots if b.status == "valid"
    ]
    out = []
    for b, order in valid:
        if b.reviewer in order:
            others = [o.index(b.reviewer) + 1 for c, o in valid if c.reviewer != b.reviewer]
            out.append(
                SelfPreference(
                    reviewer=b.reviewer,
                    own_position=order.index(b.reviewer) + 1,
                    others_mean_position=sum(others) / len(others) if others else None,
                )
            )
    return out


def test_matches_reference_and_tie_rule_on_random_councils():
    exercised = {"mean": 0, "borda": 0, "first": 0, "panel": 0, "none": 0}
    for seed in range(CASES):
        rng = random.Random(seed)
        panel, ballots = random_council(rng)
        for exclude in (True, False):
            rows = aggregate(ballots, panel, exclude_self=exclude)
            assert rows == reference_aggregate(ballots, panel, exclude), seed
            assert [r.place for r in rows] == list(range(1, len(rows) + 1))
            answered = [s for s in panel if s in {r.seat for r in rows}]
            for a, b in itertools.pairwise(rows):
                exercised[_decided_by(a, b, answered)] += 1
        assert self_preference(ballots, panel) == reference_self_preference(ballots), seed
    assert all(n >= 5 for n in exercised.values()), exercised


def _decided_by(a: AggregateRow, b: AggregateRow, answered: list[str]) -> str:
    """Which rule orders neighbours a before b; fails if the rule says b before a."""
    if a.mean_rank is None or b.mean_rank is None:
        assert b.mean_rank is None and (a.mean_rank is not None or _panel_before(a, b, answered))
        return "none" if a.mean_rank is not None else "panel"
    if a.mean_rank != b.mean_rank:
        assert a.mean_rank < b.mean_rank
        return "mean"
    if a.borda != b.borda:
        assert a.borda > b.borda
        return "borda"
    if a.first_places != b.first_places:
        assert a.first_places > b.first_places
        return "first"
    assert _panel_before(a, b, answered)
    return "panel"


def _panel_before(a: AggregateRow, b: AggregateRow, answered: list[str]) -> bool:
    return answered.index(a.seat) < answered.index(b.seat)


# --- invariances ------------------------------------------------------------------------------


def test_relabelling_does_not_change_anything():
    for seed in range(CASES):
        rng = random.Random(seed)
        panel, ballots = random_council(rng)
        relabelled = [relabel(rng, b) for b in ballots]
        assert all_results(relabelled, panel) == all_results(ballots, panel), seed


def test_ballot_order_does_not_change_the_tally():
    for seed in range(CASES):
        rng = random.Random(seed)
        panel, ballots = random_council(rng)
        shuffled = rng.sample(ballots, len(ballots))
        assert aggregate(shuffled, panel) == aggregate(ballots, panel), seed
        assert aggregate(shuffled, panel, False) == aggregate(ballots, panel, False), seed
        assert kendall_w(shuffled) == kendall_w(ballots), seed
        key = {b.reviewer: i for i, b in enumerate(shuffled)}
        expected = sorted(self_preference(ballots, panel), key=lambda p: key[p.reviewer])
        assert self_preference(shuffled, panel) == expected, seed


def test_not_valid_ballots_are_ignored():
    for seed in range(CASES):
        rng = random.Random(seed)
        panel, ballots = random_council(rng, junk_rate=0.0)
        answered = list(ballots[0].label_map.values())
        noisy = list(ballots)
        for _ in range(rng.randint(1, 4)):
            noisy.insert(rng.randint(0, len(noisy)), junk(rng, rng.choice(panel), answered))
        assert all_results(noisy, panel) == all_results(ballots, panel), seed


def test_no_valid_ballot_gives_unranked_rows_in_panel_order():
    panel = ["gemini", "codex:gpt-5.4", "claude:opus"]
    rng = random.Random(7)
    ballots = [junk(rng, seat, panel[:2]) for seat in panel]
    rows = aggregate(ballots, panel)
    assert [(r.seat, r.place, r.mean_rank, r.borda, r.votes) for r in rows] == [
        ("gemini", 1, None, 0.0, 0),
        ("codex:gpt-5.4", 2, None, 0.0, 0),
    ]
    assert self_preference(ballots, panel) == [] and kendall_w(ballots) is None


# --- self-votes -------------------------------------------------------------------------------


def test_ranking_oneself_first_matters_only_without_exclusion():
    for seed in range(CASES):
        rng = random.Random(seed)
        panel = rng.sample(POOL, rng.randint(2, 6))
        answered = rng.sample(panel, rng.randint(2, len(panel)))
        reviewer = rng.choice(answered)
        ballots = [
            record(r, rng.sample(answered, len(answered)), rng)
            for r in rng.sample(panel, rng.randint(0, len(panel)))
            if r != reviewer
        ]
        others = rng.sample([s for s in answered if s != reviewer], len(answered) - 1)
        modest = record(reviewer, [*others, reviewer], rng)
        vain = record(reviewer, [reviewer, *others], rng)
        at = rng.randint(0, len(ballots))
        honest, selfish = ([*ballots[:at], b, *ballots[at:]] for b in (modest, vain))
        assert aggregate(selfish, panel) == aggregate(honest, panel), seed
        assert aggregate(selfish, panel, False) != aggregate(honest, panel, False), seed
        mine = [p for p in self_preference(selfish, panel) if p.reviewer == reviewer]
        assert [p.own_position for p in mine] == [1]


def test_self_preference_is_on_the_full_ballot_scale():
    panel = ["a", "b", "c", "judge"]
    ballots = [
        record("a", ["a", "b", "c"]),
        record("b", ["a", "c", "b"]),
        record("c", ["c", "b", "a"]),
        record("judge", ["b", "a", "c"]),
    ]
    assert self_preference(ballots, panel) == [
        SelfPreference(reviewer="a", own_position=1, others_mean_position=2.0),
        SelfPreference(reviewer="b", own_position=3, others_mean_position=5 / 3),
        SelfPreference(reviewer="c", own_position=1, others_mean_position=8 / 3),
    ]
    alone = [record("a", ["b", "a"]), record("b", ["a", "b"], status="invalid")]
    assert self_preference(alone, panel) == [
        SelfPreference(reviewer="a", own_position=2, others_mean_position=None)
    ]


# --- Kendall's W ------------------------------------------------------------------------------


def test_unanimous_ballots_agree_fully_and_set_the_order():
    for seed in range(CASES):
        rng = random.Random(seed)
        panel = rng.sample(POOL, rng.randint(2, 7))
        order = rng.sample(panel, len(panel))
        ballots = [record(r, order, rng) for r in rng.choices(panel, k=rng.randint(2, 6))]
        assert kendall_w(ballots) == 1.0, seed
        m, n = len(ballots), len(order)
        rows = aggregate(ballots, panel, exclude_self=False)
        assert [(r.seat, r.mean_rank, r.borda, r.votes) for r in rows] == [
            (s, float(i), float(m * (n - i)), m) for i, s in enumerate(order, start=1)
        ]
        assert [r.first_places for r in rows] == [m] + [0] * (n - 1)
        if n >= 3:  # every seat reviewing: (k (n-2) + 1) / (n-1) still rises with position k
            everyone = [record(r, order, rng) for r in panel]
            assert [r.seat for r in aggregate(everyone, panel)] == order, seed


def test_two_reversed_ballots_have_no_agreement():
    for seed in range(CASES):
        rng = random.Random(seed)
        panel = [f"seat{i}" for i in range(rng.randint(2, 9))]
        order = rng.sample(panel, len(panel))
        ballots = [record("x", order, rng), record("y", order[::-1], rng)]
        ballots += [junk(rng, "z", panel) for _ in range(rng.randint(0, 2))]
        assert kendall_w(rng.sample(ballots, len(ballots))) == 0.0, seed


def test_w_matches_the_mean_spearman_identity():
    """W = ((m - 1) * mean pairwise Spearman rho + 1) / m: an independent route to the same W."""
    for seed in range(CASES):
        rng = random.Random(seed)
        panel = rng.sample(POOL, rng.randint(2, 7))
        orders = [rng.sample(panel, len(panel)) for _ in range(rng.randint(2, 6))]
        w = kendall_w([record(f"r{i}", o, rng) for i, o in enumerate(orders)])
        m, n = len(orders), len(panel)
        rhos = [
            1 - 6 * sum((a.index(s) - b.index(s)) ** 2 for s in panel) / (n**3 - n)
            for a, b in itertools.combinations(orders, 2)
        ]
        expected = ((m - 1) * sum(rhos) / len(rhos) + 1) / m
        assert 0.0 <= w <= 1.0 and w == pytest.approx(expected, abs=5e-5), seed


def test_w_is_undefined_when_it_cannot_be_computed():
    two = ["a", "b"]
    assert kendall_w([]) is None
    assert kendall_w([record("x", two)]) is None
    assert kendall_w([record("x", two), record("y", two, status="failed")]) is None
    assert kendall_w([record("x", ["a"]), record("y", ["a"])]) is None
    assert kendall_w([record("x", two), record("y", ["a", "c"])]) is None
    assert kendall_w([record("x", two), record("y", ["a", "b", "c"])]) is None


# --- constructed ties ---------------------------------------------------------------------------


def rows_of(ballots, panel, exclude_self=True):
    return [
        (r.seat, r.mean_rank, r.borda, r.first_places, r.place)
        for r in aggregate(ballots, panel, exclude_self)
    ]


def test_lower_mean_rank_wins_over_higher_borda():
    # reduced ballots of 3: y is ranked once at 1 (Borda 2), x twice at 1 and 2 (Borda 3)
    panel = ["x", "y", "z", "w"]
    ballots = [record("y", ["x", "w", "y", "z"]), record("z", ["y", "x", "z", "w"])]
    assert rows_of(ballots, panel)[:2] == [("y", 1.0, 2.0, 1, 1), ("x", 1.5, 3.0, 1, 2)]


def test_borda_breaks_a_mean_rank_tie():
    # b's ballot is invalid, so a has 2 votes and b has 3, all at mean 2: Borda 2 vs 3.
    # a also has more first places and comes first in the panel: only Borda can put b ahead.
    panel = ["a", "b", "c", "d"]
    ballots = [
        record("a", ["c", "b", "a", "d"]),
        record("c", ["a", "b", "c", "d"]),
        record("d", ["c", "b", "a", "d"]),
        record("b", ["b", "a", "c", "d"], status="invalid"),
    ]
    assert rows_of(ballots, panel) == [
        ("c", 1.0, 4.0, 2, 1),
        ("b", 2.0, 3.0, 0, 2),
        ("a", 2.0, 2.0, 1, 3),
        ("d", 3.0, 0.0, 0, 4),
    ]


def test_first_places_then_panel_order_break_the_rest():
    # a, b, c all at mean 2 with Borda 4; a and c have one first place, b none; b is first in
    # the panel, a before c. exclude_self=False keeps every ballot at full size.
    panel = ["b", "a", "c", "d"]
    ballots = [record("a", ["a", "b", "c", "d"]), record("c", ["c", "b", "a", "d"])]
    assert rows_of(ballots, panel, exclude_self=False) == [
        ("a", 2.0, 4.0, 1, 1),
        ("c", 2.0, 4.0, 1, 2),
        ("b", 2.0, 4.0, 0, 3),
        ("d", 4.0, 0.0, 0, 4),
    ]


def test_unranked_seats_come_last_whatever_their_panel_place():
    # only e's ballot is valid; with e's own answer removed nobody ranked e: no mean, placed last
    panel = ["e", "a", "b"]
    ballots = [record("e", ["e", "a", "b"]), record("a", ["e", "a", "b"], status="missing")]
    assert rows_of(ballots, panel) == [
        ("a", 1.0, 1.0, 1, 1),
        ("b", 2.0, 0.0, 0, 2),
        ("e", None, 0.0, 0, 3),
    ]
    assert rows_of(ballots, panel, exclude_self=False)[0] == ("e", 1.0, 2.0, 1, 1)


# --- the hand-worked council: 3 reviewers x 3 seats ---------------------------------------------

CODEX, GEMINI, CLAUDE = "codex:gpt-5.4", "gemini", "claude:opus"
HAND_PANEL = [CODEX, GEMINI, CLAUDE]


def hand_ballots() -> list[BallotRecord]:
    def rec(reviewer, label_map, ranking):
        return BallotRecord(
            reviewer=reviewer,
            seed=11,
            label_map=label_map,
            status="valid",
            ballot=Ballot(token="t", ranking=ranking, critiques={lb: "." for lb in ranking}),
        )

    return [
        # codex puts itself first: codex > gemini > claude
        rec(
            CODEX,
            {"Response A": GEMINI, "Response B": CLAUDE, "Response C": CODEX},
            ["Response C", "Response A", "Response B"],
        ),
        # gemini: codex > gemini > claude
        rec(
            GEMINI,
            {"Response A": CLAUDE, "Response B": CODEX, "Response C": GEMINI},
            ["Response B", "Response C", "Response A"],
        ),
        # claude: gemini > claude > codex
        rec(
            CLAUDE,
            {"Response A": CODEX, "Response B": GEMINI, "Response C": CLAUDE},
            ["Response B", "Response C", "Response A"],
        ),
    ]


def test_hand_worked_example():
    ballots = hand_ballots()
    # self excluded: codex [gemini, claude]; gemini [codex, claude]; claude [gemini, codex]
    assert aggregate(ballots, HAND_PANEL) == [
        AggregateRow(seat=GEMINI, place=1, mean_rank=1.0, borda=2.0, votes=2, first_places=2),
        AggregateRow(seat=CODEX, place=2, mean_rank=1.5, borda=1.0, votes=2, first_places=1),
        AggregateRow(seat=CLAUDE, place=3, mean_rank=2.0, borda=0.0, votes=2, first_places=0),
    ]
    # full ballots: codex 1,1,3 and gemini 2,2,1 tie on mean 5/3 and Borda 4; codex has 2 firsts
    assert aggregate(ballots, HAND_PANEL, exclude_self=False) == [
        AggregateRow(seat=CODEX, place=1, mean_rank=5 / 3, borda=4.0, votes=3, first_places=2),
        AggregateRow(seat=GEMINI, place=2, mean_rank=5 / 3, borda=4.0, votes=3, first_places=1),
        AggregateRow(seat=CLAUDE, place=3, mean_rank=8 / 3, borda=1.0, votes=3, first_places=0),
    ]
    assert self_preference(ballots, HAND_PANEL) == [
        SelfPreference(reviewer=CODEX, own_position=1, others_mean_position=2.0),
        SelfPreference(reviewer=GEMINI, own_position=2, others_mean_position=1.5),
        SelfPreference(reviewer=CLAUDE, own_position=2, others_mean_position=3.0),
    ]
    # rank sums 5, 5, 8 (mean 6): S = 1 + 1 + 4 = 6; W = 12 * 6 / (3^2 * (27 - 3)) = 1/3
    assert kendall_w(ballots) == 0.3333


# --- contract violations are errors, not skips ------------------------------------------------

GOOD = record("a", ["a", "b"])
BROKEN = {
    "no ballot": GOOD.model_copy(update={"ballot": None}),
    "not a permutation": GOOD.model_copy(
        update={"ballot": Ballot(token="t", ranking=["Response A"] * 2, critiques={})}
    ),
    "seat shown twice": GOOD.model_copy(
        update={"label_map": {"Response A": "a", "Response B": "a"}}
    ),
}
CALLS = {
    "aggregate": lambda bad: aggregate([bad], ["a", "b"]),
    "self_preference": lambda bad: self_preference([bad], ["a", "b"]),
    "kendall_w": lambda bad: kendall_w([bad, GOOD]),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
@pytest.mark.parametrize("bad", BROKEN.values(), ids=BROKEN.keys())
def test_inconsistent_valid_ballots_raise(bad, call):
    with pytest.raises(ValueError):
        call(bad)
    call(bad.model_copy(update={"status": "invalid"}))  # not counted, so not checked


def test_a_seat_outside_the_panel_raises():
    unknown = GOOD.model_copy(update={"label_map": {"Response A": "a", "Response B": "zz"}})
    with pytest.raises(ValueError, match="outside the panel"):
        aggregate([unknown], ["a", "b"])
