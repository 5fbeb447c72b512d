"""Position bias against the council: simulated reviewers with a known position bias and noise
rank answers of known quality, through the real shuffle (`anonymize`), tally and audit.

A reviewer sees answer i with quality q_i + noise (normal, sd 1) - bias * (position shown,
0 first) and ranks by that. The bias is stated as what the literature measures: how often,
between two equally good answers shown next to each other, the earlier one wins. Zheng et al.
2023 (MT-Bench, GPT-4 as a pairwise judge) found 65% of verdicts consistent when the two
answers were swapped and 30% favouring the first position: the first wins about 62.5% of
equal pairs, the size used here ("lit"); 55% and 75% bracket it.

Printed per bias: how often the truly best answer wins with the per-reviewer shuffle (the
council's design) and with one fixed order for everyone, against the same panel with no bias;
then the audit's position figure (share of pairs the earlier-shown answer won, whose true
value is estimated from 20,000 simulated ballots) and how often one council's audit flags
the bias at 5%. Last, the stage-2 prompt volume of a 24-seat panel with 1 KB answers, every
reviewer shown everything against 4 reviewers per answer.

    .venv/bin/python benchmarks/council_bias.py [--trials 2000] [--seats 5] [--seed 1]
"""

from __future__ import annotations

import argparse
import random
from statistics import NormalDist, mean, pstdev

from multi_model.council import anonymize, audit, stages, tally
from multi_model.council.models import Ballot, BallotRecord

GAP = 0.5  # quality step between neighbouring answers, in noise sd
PAIR_WIN = {"none": 0.5, "55%": 0.55, "lit": 0.625, "75%": 0.75}


def bias_for(pair_win: float) -> float:
    """Per-position penalty that makes the earlier of two equal neighbours win `pair_win`."""
    return NormalDist().inv_cdf(pair_win) * 2**0.5


def ballot(
    reviewer: str, lmap: dict[str, str], quality: dict[str, float], bias: float, rng: random.Random
) -> BallotRecord:
    seen = {
        lb: quality[seat] + rng.gauss(0, 1) - bias * i for i, (lb, seat) in enumerate(lmap.items())
    }
    ranking = sorted(seen, key=lambda lb: -seen[lb])
    critiques = {lb: f"on {lb}" for lb in lmap}
    return BallotRecord(
        reviewer=reviewer,
        seed=0,
        label_map=lmap,
        status="valid",
        ballot=Ballot(token="t", critiques=critiques, ranking=ranking),
    )


MODES = ("shuffle", "fixed", "best-last")
"""Who sees which order: each reviewer its own shuffle (the council), one random order for
everyone, or one order for everyone that shows the best answer last (the worst case)."""


def council(
    seats: list[str], bias: float, mode: str, rng: random.Random
) -> tuple[list[BallotRecord], str]:
    """One simulated council's ballots, and its truly best seat."""
    order = rng.sample(seats, len(seats))
    quality = {seat: -GAP * i for i, seat in enumerate(order)}  # order[0] is the best
    fixed = anonymize.label_map(seats, rng.randrange(2**31))
    if mode == "best-last":
        fixed = {anonymize.label(i): seat for i, seat in enumerate([*order[1:], order[0]])}
    run_seed = rng.randrange(2**31)
    ballots = []
    for i in range(len(seats)):
        reviewer = f"reviewer{i}"  # not a seat: no self-votes in this experiment
        lmap = (
            anonymize.label_map(seats, anonymize.reviewer_seed(run_seed, reviewer))
            if mode == "shuffle"
            else fixed
        )
        ballots.append(ballot(reviewer, lmap, quality, bias, rng))
    return ballots, order[0]


def best_wins(seats: list[str], bias: float, mode: str, trials: int, seed: int) -> float:
    rng = random.Random(seed)
    wins = 0
    for _ in range(trials):
        ballots, best = council(seats, bias, mode, rng)
        wins += tally.aggregate(ballots, seats)[0].seat == best
    return wins / trials


def recovery(
    seats: list[str], bias: float, trials: int, seed: int
) -> tuple[float, float, float, float]:
    """(true earlier-wins share, mean and sd of one council's estimate, share flagged)."""
    rng = random.Random(seed)
    many = [b for _ in range(20_000 // len(seats)) for b in council(seats, bias, "shuffle", rng)[0]]
    truth = audit.position_bias(many).earlier_wins or 0.0
    estimates, flagged = [], 0
    for _ in range(trials):
        position = audit.position_bias(council(seats, bias, "shuffle", rng)[0])
        estimates.append(position.earlier_wins or 0.0)
        flagged += position.favours == "earlier"
    return truth, mean(estimates), pstdev(estimates), flagged / trials


def prompt_volume(seats: int, answer_bytes: int, per_answer: int | None) -> int:
    answered = {f"model{i}": f"answer {i} " + "x" * (answer_bytes - 9) for i in range(seats)}
    key = anonymize.draw_key()
    return sum(
        len(stages.review_task("Q?", answered, r, 1, key, per_answer).prompt.encode())
        for r in answered
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--seats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    seats = [f"seat{i}" for i in range(args.seats)]
    print(
        f"{args.seats} answers {GAP} noise sd apart, {args.seats} reviewers, {args.trials} councils"
    )
    print("pair: how often the earlier of two equal neighbours wins (lit: Zheng et al. 2023)\n")
    noise = 1.96 * (0.25 / args.trials) ** 0.5
    print(f"best answer wins (share of councils; +-{noise:.3f} at 95%), by who sees which order")
    print(f"{'bias':>5} {'pair':>5} | " + " ".join(f"{m:>9}" for m in MODES))
    for name, pair_win in PAIR_WIN.items():
        wins = [best_wins(seats, bias_for(pair_win), m, args.trials, args.seed) for m in MODES]
        print(f"{name:>5} {pair_win:>5.3f} | " + " ".join(f"{w:>9.3f}" for w in wins))
    print("\naudit position figure (share of pairs the earlier-shown answer won), one council")
    print(f"{'bias':>5} {'pair':>5} | {'true':>5} {'mean':>5} {'sd':>5} | flagged at 5%")
    for name, pair_win in PAIR_WIN.items():
        truth, est, sd, flagged = recovery(seats, bias_for(pair_win), args.trials // 4, args.seed)
        print(
            f"{name:>5} {pair_win:>5.3f} | {truth:>5.3f} {est:>5.3f} {sd:>5.3f} | {flagged:>6.1%}"
        )
    full, k4 = prompt_volume(24, 1024, None), prompt_volume(24, 1024, 4)
    print(
        f"stage-2 prompts, 24 seats, 1 KB answers: all {full / 1e6:.2f} MB, "
        f"k=4 {k4 / 1e6:.2f} MB (ratio {full / k4:.1f}x)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
