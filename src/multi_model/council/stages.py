"""The three council stages. Each calls `dispatch_fn(prompt, models) -> list[Response]`, so a
caller can mix its own workers (e.g. Agent-tool results) with the CLIs; by default that is
`multi_model.dispatch`. Seats never see model names; only the report de-anonymizes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from multi_model.council import anonymize, assign
from multi_model.council.ballot import example_ballot, parse_ballot
from multi_model.council.models import AggregateRow, BallotRecord, Synthesis
from multi_model.council.store import RunStore
from multi_model.models import Response
from multi_model.prompts import render

DispatchFn = Callable[[str, list[str]], list[Response]]
CHAIRMAN = "chairman"  # the name its label shuffle is seeded with


def seat_ids(panel: Sequence[str]) -> list[str]:
    """Seat ids for a panel: the specs, with '#2', '#3' for repeats."""
    counts: dict[str, int] = {}
    seats = []
    for spec in panel:
        counts[spec] = counts.get(spec, 0) + 1
        seats.append(spec if counts[spec] == 1 else f"{spec}#{counts[spec]}")
    return seats


def model_of(seat: str) -> str:
    return seat.split("#", 1)[0]


def ask_one(dispatch_fn: DispatchFn, prompt: str, seat: str) -> Response:
    [response] = dispatch_fn(prompt, [model_of(seat)])
    return response.model_copy(update={"model": seat})


# --- stage 1 ---------------------------------------------------------------------------------


def run_stage1(
    question: str, seats: Sequence[str], dispatch_fn: DispatchFn, store: RunStore | None = None
) -> list[Response]:
    """Every seat answers the question as asked, in parallel; one Response per seat, in order."""
    responses = dispatch_fn(question, [model_of(s) for s in seats])
    answers = [
        r.model_copy(update={"model": seat}) for seat, r in zip(seats, responses, strict=True)
    ]
    for answer in answers:
        if store:
            store.write_json(store.answer_rel(answer.model), answer)
    return answers


# --- stage 2 ---------------------------------------------------------------------------------


def run_stage2(
    question: str,
    answers: Sequence[Response],
    dispatch_fn: DispatchFn,
    seed: int,
    key: str,
    store: RunStore | None = None,
    reviewers: Sequence[str] | None = None,
    per_answer: int | None = None,
) -> list[BallotRecord]:
    """Every reviewer (default: every seat that answered) ranks the answers blind (all, or
    the ones `assign.shown_to` gives it), in parallel, each with its own shuffle (from `seed`)
    and its own token (from `key`); one repair retry; invalid stays invalid."""
    answered = {r.model: r.text for r in answers if r.ok}
    reviewers = list(reviewers if reviewers is not None else answered)

    def review(reviewer: str) -> BallotRecord:
        return run_review(question, answered, reviewer, dispatch_fn, seed, key, store, per_answer)

    with ThreadPoolExecutor(max_workers=max(1, len(reviewers))) as pool:
        return list(pool.map(review, reviewers))


def rank_prompt(
    question: str, answered: dict[str, str], lmap: dict[str, str], nonce: str, token: str
) -> str:
    labels = list(lmap)
    return render(
        "rank",
        question=question,
        nonce=nonce,
        labels=", ".join(labels),
        token=token,
        answers=anonymize.answer_blocks({lb: answered[s] for lb, s in lmap.items()}, nonce),
        example=example_ballot(),
    )


@dataclass(frozen=True)
class ReviewTask:
    """What one reviewer is shown: its own shuffle of the labels, its own ballot token and the
    prompt built on them. The same for a CLI reviewer (`run_review`) and a Claude seat
    (`hosted`), which derive them from the run's seed and key."""

    reviewer: str
    seed: int
    label_map: dict[str, str]
    token: str
    prompt: str

    @property
    def labels(self) -> list[str]:
        return list(self.label_map)

    def repair_prompt(self, errors: Sequence[str]) -> str:
        return (
            self.prompt
            + "\n\n"
            + render(
                "repair",
                errors="\n".join(f"- {e}" for e in errors),
                labels=", ".join(self.labels),
                token=self.token,
                example=example_ballot(),
            )
        )

    def record(self, **fields: object) -> BallotRecord:
        base = {"reviewer": self.reviewer, "seed": self.seed, "label_map": self.label_map}
        return BallotRecord.model_validate({**base, **fields})


def review_task(
    question: str,
    answered: dict[str, str],
    reviewer: str,
    seed: int,
    key: str,
    per_answer: int | None = None,
) -> ReviewTask:
    """`reviewer`'s task: the answers `assign.shown_to` gives it, in its shuffle from `seed`;
    the stage's nonce and its own token from `key`, neither found in the question or an answer
    (so no framed text can close a block or pass for a ballot)."""
    rseed = anonymize.reviewer_seed(seed, reviewer)
    subset = assign.shown_to(list(answered), reviewer, per_answer, seed)
    lmap = anonymize.label_map(subset, rseed)
    shown = [question, *answered.values()]
    nonce = anonymize.keyed(key, "nonce:review", shown)
    token = anonymize.keyed(key, f"token:{reviewer}", [*shown, nonce])
    return ReviewTask(
        reviewer, rseed, lmap, token, rank_prompt(question, answered, lmap, nonce, token)
    )


def run_review(
    question: str,
    answered: dict[str, str],
    reviewer: str,
    dispatch_fn: DispatchFn,
    seed: int,
    key: str,
    store: RunStore | None = None,
    per_answer: int | None = None,
) -> BallotRecord:
    """One reviewer's ballot, through the strict pipeline and at most one repair retry."""
    task = review_task(question, answered, reviewer, seed, key, per_answer)
    if store:
        store.write_text(store.review_prompt_rel(reviewer), task.prompt)
    errors: list[str] = []
    for attempt in (1, 2):
        reply = ask_one(
            dispatch_fn, task.prompt if attempt == 1 else task.repair_prompt(errors), reviewer
        )
        if store:
            store.write_text(store.review_raw_rel(reviewer, attempt), reply.text)
        if not reply.ok:
            status = "missing" if reply.status == "timeout" else "failed"
            record = task.record(
                status=status, attempts=attempt, error=f"{reply.status}: {reply.error}"
            )
            break
        record, errors = judge_ballot(task, reply.text, attempt)
        if record.status == "valid":
            break
    if store:
        store.write_json(store.ballot_rel(reviewer), record)
    return record


def judge_ballot(task: ReviewTask, text: str, attempt: int) -> tuple[BallotRecord, list[str]]:
    """A reply through the ballot pipeline: (valid record, []) or (invalid record, errors)."""
    parsed = parse_ballot(text, task.labels, task.token)
    if parsed.value is not None:
        return task.record(status="valid", ballot=parsed.value, attempts=attempt), []
    return task.record(status="invalid", errors=parsed.errors, attempts=attempt), parsed.errors


# --- stage 3 ---------------------------------------------------------------------------------


def synthesis_prompt(
    question: str,
    answers: Sequence[Response],
    ballots: Sequence[BallotRecord],
    rows: Sequence[AggregateRow],
    seed: int,
    key: str,
) -> str:
    """The chairman's prompt: answers, aggregate and critiques under the chairman's own
    labels (critiques relabelled from each reviewer's), never a model name. Its nonce is
    new: reviewers saw the stage-2 one and could have written it into a critique."""
    answered = {r.model: r.text for r in answers if r.ok}
    chair_seed = anonymize.reviewer_seed(seed, CHAIRMAN)
    cmap = anonymize.label_map(list(answered), chair_seed)
    label_of = {seat: lb for lb, seat in cmap.items()}
    critiques = critiques_text(ballots, label_of)
    nonce = anonymize.keyed(key, "nonce:synthesis", [question, critiques, *answered.values()])
    return render(
        "synthesize",
        question=question,
        nonce=nonce,
        answers=anonymize.answer_blocks({lb: answered[s] for lb, s in cmap.items()}, nonce),
        aggregate=aggregate_table(rows, label_of),
        critiques=critiques,
    )


def aggregate_table(rows: Sequence[AggregateRow], label_of: dict[str, str]) -> str:
    lines = ["| answer | place | mean rank | Borda | votes |", "|---|---|---|---|---|"]
    for row in rows:
        mean = "-" if row.mean_rank is None else f"{row.mean_rank:.2f}"
        lines.append(
            f"| {label_of[row.seat]} | {row.place} | {mean} | {row.borda:g} | {row.votes} |"
        )
    return "\n".join(lines)


def critiques_text(ballots: Sequence[BallotRecord], label_of: dict[str, str]) -> str:
    parts = []
    valid = [b for b in ballots if b.status == "valid" and b.ballot]
    for number, record in enumerate(valid, 1):
        assert record.ballot is not None
        to_chair = {lb: label_of[seat] for lb, seat in record.label_map.items()}
        order = " > ".join(to_chair[lb] for lb in record.ballot.ranking)
        notes = [
            f"- {to_chair[lb]}: {anonymize.relabel(text, to_chair)}"
            for lb, text in sorted(
                record.ballot.critiques.items(), key=lambda item: to_chair[item[0]]
            )
        ]
        parts.append(f"Reviewer {number} ranked {order}\n" + "\n".join(notes))
    return "\n\n".join(parts) or "(no valid ballots)"


def run_stage3(
    prompt: str, chairmen: Sequence[str], dispatch_fn: DispatchFn, store: RunStore | None = None
) -> tuple[Synthesis | None, list[str]]:
    """Ask each chairman in turn until one writes a synthesis; (synthesis, failures)."""
    if store:
        store.write_text(store.SYNTHESIS_PROMPT, prompt)
    failures: list[str] = []
    for attempt, chair in enumerate(chairmen, 1):
        reply = ask_one(dispatch_fn, prompt, chair)
        if store:
            store.write_text(store.chair_raw_rel(attempt), reply.text)
        if reply.ok:
            synthesis = Synthesis(
                chairman=chair,
                text=reply.text,
                fallback_from=[f.split(": ", 1)[0] for f in failures],
            )
            if store:
                store.write_json(store.SYNTHESIS, synthesis)
            return synthesis, failures
        failures.append(f"{chair}: {reply.status}: {reply.error}")
    return None, failures
