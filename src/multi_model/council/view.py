"""What a council report shows, as plain data for its renderers (council/report.py for
Markdown, council/htmlreport.py for HTML): the verdict, the ranking, every answer, each
reviewer's critiques de-anonymized, where reviewers disagreed, the audit and the proof of run.
Pure. The result is read only through the accessors at the top (`answers`, `ballots`,
`standings`, `synthesis`), so a renamed result field is a change in one place."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from multi_model.council import tally
from multi_model.council.audit import Audit
from multi_model.council.models import AggregateRow, BallotRecord, CouncilResult, Synthesis
from multi_model.council.store import RunStore
from multi_model.models import Response

EXCERPT_CHARS = 4000  # a longer answer is shown as a marked excerpt plus its file


def answers(result: CouncilResult) -> list[Response]:
    return result.answers


def ballots(result: CouncilResult) -> list[BallotRecord]:
    return result.ballots


def standings(result: CouncilResult) -> list[AggregateRow]:
    return result.standings


def synthesis(result: CouncilResult) -> Synthesis | None:
    return result.synthesis


def audit_of(result: CouncilResult) -> Audit | None:
    """The run's audit from its metadata; None for a run from before the audit (or a bad one)."""
    try:
        return Audit.model_validate(result.metadata.get("audit"))
    except ValidationError:
        return None


@dataclass(frozen=True)
class AnswerView:
    seat: str
    status: str
    text: str = ""
    excerpt: bool = False
    file: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Critique:
    reviewer: str
    seat: str
    place: int | None  # where the reviewer ranked this answer (1 = best)
    text: str


@dataclass
class ReportView:
    question: str
    synthesis: Synthesis | None
    synthesis_failures: list[str]
    verdict: str
    rows: list[AggregateRow]
    kendall_w: float | None
    ballots_valid: int
    ballots_total: int
    answers: list[AnswerView]
    critiques: dict[str, list[Critique]]  # seat -> its critiques, reviewer order
    reviewers: list[str]
    matrix: dict[tuple[str, str], int]  # (reviewer, seat) -> place that reviewer gave
    disagreements: list[str]
    audit: Audit | None
    proofs: list[tuple[str, str]]  # (seat, proof line)
    ballot_problems: list[str]
    run_dir: str | None
    tie_rule: str = ""
    demo: bool = False


def build(result: CouncilResult) -> ReportView:
    rows, records = standings(result), ballots(result)
    orders = _orders(records)
    run_dir = result.metadata.get("run_dir")
    audit = audit_of(result)
    w = result.metadata.get("kendall_w")
    listed = result.metadata.get("chairman_failures")
    return ReportView(
        question=result.question,
        synthesis=synthesis(result),
        synthesis_failures=[str(f) for f in listed] if isinstance(listed, list) else [],
        verdict=verdict(rows, audit),
        rows=rows,
        kendall_w=float(w) if isinstance(w, (int, float)) else None,
        ballots_valid=len(orders),
        ballots_total=len(records),
        answers=[
            _answer(r, run_dir if isinstance(run_dir, str) else None) for r in answers(result)
        ],
        critiques=_critiques(records, orders),
        reviewers=[b.reviewer for b in records],
        matrix={(b.reviewer, s): i for b, o in orders for i, s in enumerate(o, 1)},
        disagreements=disagreements(orders, audit),
        audit=audit,
        proofs=[(r.model, proof(r)) for r in answers(result)],
        ballot_problems=[_problem(b) for b in records if b.status != "valid"],
        run_dir=run_dir if isinstance(run_dir, str) else None,
        tie_rule=str(result.metadata.get("tie_rule") or ""),
        demo=bool(result.metadata.get("demo")),
    )


def _orders(records: list[BallotRecord]) -> list[tuple[BallotRecord, list[str]]]:
    """Each valid ballot's order as seats; a ballot that does not add up (a hand-edited
    result.json) is left out rather than trusted."""
    out = []
    for b in records:
        if b.status == "valid":
            try:
                out.append((b, tally.full_order(b)))
            except ValueError:
                continue
    return out


def verdict(rows: list[AggregateRow], audit: Audit | None) -> str:
    """One sentence a newcomer can read: who won, by how many first places, and whether the
    top two are told apart by the strength fit."""
    ranked = [r for r in rows if r.votes]
    if not ranked:
        return "No valid ballot ranked any answer, so the council has no ranking."
    top = ranked[0]
    text = f"{top.seat}'s answer ranked first by {top.first_places} of {top.votes} reviewers"
    if len(ranked) > 1 and ranked[1].mean_rank == top.mean_rank:
        text += f"; it ties with {ranked[1].seat} on mean rank (the tie rule decided)"
    separable = audit.strengths.separable if audit else None
    seats = [s.seat for s in audit.strengths.seats[:2]] if audit else []
    if separable is False and len(seats) == 2:
        text += f"; {seats[0]} and {seats[1]} are not separable (their strength intervals overlap)"
    elif separable and len(seats) == 2:
        text += f"; {seats[0]} is ahead of {seats[1]} beyond resampling noise"
    return text + "."


def _answer(r: Response, run_dir: str | None) -> AnswerView:
    file = str(Path(run_dir) / RunStore.answer_rel(r.model)) if run_dir else None
    if not r.ok:
        first = (r.error or "").strip().splitlines()
        return AnswerView(r.model, r.status, "", False, file, first[0][:200] if first else None)
    if len(r.text) <= EXCERPT_CHARS:
        return AnswerView(r.model, r.status, r.text, False, file)
    return AnswerView(r.model, r.status, r.text[:EXCERPT_CHARS], True, file)


def _critiques(
    records: list[BallotRecord], orders: list[tuple[BallotRecord, list[str]]]
) -> dict[str, list[Critique]]:
    places = {b.reviewer: {s: i for i, s in enumerate(o, 1)} for b, o in orders}
    out: dict[str, list[Critique]] = {}
    for b in records:
        if b.status != "valid" or b.ballot is None:
            continue
        for label, text in b.ballot.critiques.items():
            seat = b.label_map.get(label)
            if seat is not None:
                place = places.get(b.reviewer, {}).get(seat)
                out.setdefault(seat, []).append(Critique(b.reviewer, seat, place, text))
    return out


def disagreements(orders: list[tuple[BallotRecord, list[str]]], audit: Audit | None) -> list[str]:
    """Answers whose places (own answers left out: that is self-preference, in the audit)
    spread over half the scale or more, and the dissenting reviewers."""
    lines = []
    size = max((len(o) for _, o in orders), default=0)
    spread_at = 1 if size == 2 else max(2, math.ceil((size - 1) / 2))
    per_seat: dict[str, list[tuple[int, str]]] = {}
    for b, o in orders:
        for i, seat in enumerate(o, 1):
            if seat != b.reviewer:
                per_seat.setdefault(seat, []).append((i, b.reviewer))
    for seat, given in per_seat.items():
        best, worst = min(given), max(given)
        if len(given) > 1 and worst[0] - best[0] >= spread_at:
            lines.append(
                f"{seat}: ranked {nth(best[0])} by {best[1]} but {nth(worst[0])} by {worst[1]}"
            )
    for r in audit.agreement.reviewers if audit else []:
        if r.reviewer in audit.agreement.dissenters:  # type: ignore[union-attr]
            lines.append(
                f"{r.reviewer} dissents: its ranking runs against the council's "
                f"(Kendall's tau {r.tau_with_council:+.2f})"
            )
    return lines


def nth(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def proof(r: Response) -> str:
    """`status (what shows the seat ran)`: provider and CLI version, exit code, time, model
    reported, tokens. A Claude seat run by the host's Agent tool has no process record and
    says so, with how its reply was taken; an ok CLI answer without one is flagged (someone
    wrote it, no CLI was seen running)."""
    if r.metadata.get("seat_kind") == "agent":
        model = r.metadata.get("agent_model") or "host's model"
        parts = ["Claude Code subagent", str(model), "no process record", f"{r.duration_s:.1f} s"]
        taken = str(r.metadata.get("provenance") or "").partition(": ")[2]
        parts += [taken] if taken and taken != "no process record, the host's word" else []
        parts += ["the host's word"] if taken == "no process record, the host's word" else []
    else:
        parts = [
            x
            for x in (
                r.cli_version and f"{r.provider} {r.cli_version}",
                r.exit_code is not None and f"exit {r.exit_code}",
                f"{r.duration_s:.1f} s",
                r.model_reported and f"model {r.model_reported}",
            )
            if x
        ]
        if r.ok and r.exit_code is None and not str(r.cli_used or "").startswith("http"):
            parts.insert(0, "no process record")
    u = r.usage
    if u and (u.input_tokens is not None or u.output_tokens is not None):
        parts.append(f"tokens {u.input_tokens or 0} in / {u.output_tokens or 0} out")
    error = f" — {r.error.splitlines()[0][:160]}" if r.error and r.error.strip() else ""
    return f"{r.status} ({', '.join(parts)}){error}"


def _problem(b: BallotRecord) -> str:
    tries = f" after {b.attempts} tries" if b.attempts > 1 else ""
    why = (b.error or "; ".join(b.errors))[:200]
    return f"{b.reviewer}: {b.status}{tries}" + (f" — {why}" if why else "")


def audit_lines(a: Audit) -> list[str]:
    """The bias audit in a few plain lines (each figure is a Kendall's tau with its z)."""
    pos, length, own = a.position, a.length, a.self_preference
    lines = [
        f"Position: answers shown earlier won {_pct(pos.earlier_wins)} of pairs "
        f"(tau {_f(pos.tau)}, z {_f(pos.z)}): {_favours(pos.favours, 'position')}.",
        f"Length: tau {_f(length.tau)}, z {_f(length.z)} between length and rank: "
        f"{_favours(length.favours, 'length')} (an association: longer may simply be better).",
    ]
    same = own.winner_with_self_votes == own.winner_without_self_votes
    lines.append(
        f"Self-preference: reviewers placed their own answer {_f(own.mean_gap)} places better "
        f"than the others did on average; counting self-votes "
        + (
            "would not change the winner."
            if same
            else f"would make {own.winner_with_self_votes} win."
        )
    )
    pairs = ", ".join(f"{x}~{y} {p.tau:+.2f}" for p in a.agreement.pairs for x, y in [p.reviewers])
    lines.append(
        f"Agreement: Kendall's W {_f(a.agreement.kendall_w, '')}"
        + (f"; pairwise tau {pairs}" if pairs else "")
        + (f"; dissenters: {', '.join(a.agreement.dissenters)}" if a.agreement.dissenters else "")
        + "."
    )
    if a.strengths.seats:
        fit = "; ".join(
            f"{s.seat} {s.log_strength:+.2f} [{s.low:+.2f}, {s.high:+.2f}]"
            for s in a.strengths.seats
        )
        sep = {True: "separable", False: "not separable", None: "n/a"}[a.strengths.separable]
        lines.append(f"Strengths (Bradley-Terry, 95 % bootstrap): {fit}; top two {sep}.")
    return lines


def _favours(side: str, what: str) -> str:
    return f"no {what} bias detected" if side == "neither" else f"favours {side} answers"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def _f(x: float | None, sign: str = "+") -> str:
    return "n/a" if x is None else f"{x:{sign}.2f}"


LEGEND = (
    "place: after the tie rule; mean rank: the average place reviewers gave the answer "
    "(1 = best, a reviewer's vote for its own answer left out); Borda: points, one for every "
    "answer a ballot put below it; votes: ballots that ranked it; Kendall's W: how far the "
    "reviewers agree (0 = not at all, 1 = identical rankings); ballots valid: ballots that "
    "passed the format check and were counted (the others are listed below, never guessed)."
)
