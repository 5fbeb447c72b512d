"""`run_council`: the whole council in one call, reading like its three-stage spec."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Mapping, Sequence

from pydantic import JsonValue

from multi_model.council import anonymize, audit, stages, tally
from multi_model.council.htmlreport import render_html
from multi_model.council.models import AggregateRow, BallotRecord, CouncilResult, Synthesis
from multi_model.council.report import render_report
from multi_model.council.store import RunStore, new_run_id
from multi_model.errors import QuorumNotMet
from multi_model.models import Response
from multi_model.paths import data_dir

TIE_RULE = (
    "lower mean rank, then more Borda points, then more first places, then panel order;"
    " a reviewer's vote for its own answer is left out"
)


def run_council(
    prompt: str,
    panel: Sequence[str],
    chairman: str | None = None,
    dispatch_fn: stages.DispatchFn | None = None,
    timeout: float = 300.0,
    seed: int | None = None,
    *,
    min_answers: int = 2,
    exclude_self: bool = True,
    store: RunStore | None = None,
    on_stage: Callable[[str], None] | None = None,
    key: str | None = None,
    reviewers_per_answer: int | None = None,
) -> CouncilResult:
    """Answers, blind peer review, synthesis. Raises QuorumNotMet (after stage 1) when fewer
    than `min_answers` seats answered; every other failure is recorded in the result.
    The chairman defaults to the best-ranked panelist; if it fails, the next one chairs.
    `seed` drives the label shuffles; `key` (default: drawn from `secrets`, never recorded in
    the run) the nonces and ballot tokens: pass one only for reproducible prompts in tests.
    `reviewers_per_answer` = k has each answer reviewed by k reviewers (`assign.shown_to`)
    instead of all; for large panels, where review prompts grow with the square of the seats."""
    if reviewers_per_answer is not None and reviewers_per_answer < 1:
        raise ValueError(f"reviewers_per_answer must be >= 1, got {reviewers_per_answer}")
    seed = secrets.randbelow(2**31) if seed is None else seed
    key = key or anonymize.draw_key()
    dispatch_fn = dispatch_fn or _default_dispatch(timeout)
    seats = stages.seat_ids(panel)
    store = store or RunStore(data_dir(os.environ) / "runs" / new_run_id(seed))
    store.write_json(
        store.RUN,
        {
            "question": prompt,
            "seats": seats,
            "chairman": chairman,
            "seed": seed,
            "min_answers": min_answers,
            "exclude_self": exclude_self,
            "timeout": timeout,
            "reviewers_per_answer": reviewers_per_answer,
        },
    )
    timings: dict[str, float] = {}
    with _timed(timings, "stage1", on_stage):
        answers = stages.run_stage1(prompt, seats, dispatch_fn, store)
    if sum(a.ok for a in answers) < min_answers:
        raise QuorumNotMet(min_answers, [(a.model, a.status, a.error) for a in answers])
    with _timed(timings, "stage2", on_stage):
        ballots = stages.run_stage2(
            prompt, answers, dispatch_fn, seed, key, store, per_answer=reviewers_per_answer
        )
    rows = tally.aggregate(ballots, seats, exclude_self=exclude_self)
    chairmen = [*([chairman] if chairman else []), *(r.seat for r in rows if r.seat != chairman)]
    with _timed(timings, "stage3", on_stage):
        synthesis, failures = stages.run_stage3(
            stages.synthesis_prompt(prompt, answers, ballots, rows, seed, key),
            chairmen,
            dispatch_fn,
            store,
        )
    return finish(
        store,
        question=prompt,
        seats=seats,
        answers=answers,
        ballots=ballots,
        rows=rows,
        synthesis=synthesis,
        failures=failures,
        seed=seed,
        chairman=chairman,
        exclude_self=exclude_self,
        min_answers=min_answers,
        extra={"timings_s": {**timings}, "reviewers_per_answer": reviewers_per_answer},
    )


def finish(
    store: RunStore,
    *,
    question: str,
    seats: Sequence[str],
    answers: Sequence[Response],
    ballots: Sequence[BallotRecord],
    rows: Sequence[AggregateRow],
    synthesis: Synthesis | None,
    failures: Sequence[str],
    seed: int,
    chairman: str | None,
    exclude_self: bool,
    min_answers: int,
    extra: Mapping[str, JsonValue],
) -> CouncilResult:
    """The merged CouncilResult, with its audit, written to result.json, report.md and
    report.html."""
    answered = {a.model: a.text for a in answers if a.ok}
    checked = audit.audit(ballots, seats, answered, rows, seed, exclude_self)
    result = CouncilResult(
        question=question,
        answers=list(answers),
        ballots=list(ballots),
        standings=list(rows),
        synthesis=synthesis,
        chairman_model=synthesis.chairman if synthesis else "",
        metadata={
            "seed": seed,
            "run_dir": str(store.root),
            "chairman_requested": chairman,
            "chairman_failures": list(failures),
            "kendall_w": tally.kendall_w(ballots),
            "self_preference": [
                p.model_dump(mode="json") for p in tally.self_preference(ballots, seats)
            ],
            "exclude_self": exclude_self,
            "min_answers": min_answers,
            "tie_rule": TIE_RULE,
            "audit": checked.model_dump(mode="json"),
            **extra,
        },
    )
    save(store, result)
    return result


def save(store: RunStore, result: CouncilResult) -> None:
    """The result and its reports in the run directory (again, once a caller marked it)."""
    store.write_json(store.RESULT, result)
    store.write_text(store.REPORT, render_report(result))
    store.write_text(store.REPORT_HTML, render_html(result))


# --- the stages one by one: the seed library's documented entry points -----------------------


def run_stage1(
    prompt: str,
    panel: Sequence[str],
    dispatch_fn: stages.DispatchFn | None = None,
    timeout: float = 300.0,
) -> list[Response]:
    """Every seat answers `prompt`; one Response per seat (`#2` for a repeated spec)."""
    dispatch_fn = dispatch_fn or _default_dispatch(timeout)
    return stages.run_stage1(prompt, stages.seat_ids(panel), dispatch_fn)


def run_stage2(
    prompt: str,
    responses: Sequence[Response],
    dispatch_fn: stages.DispatchFn | None = None,
    timeout: float = 300.0,
    seed: int | None = None,
) -> list[BallotRecord]:
    """Every seat that answered ranks the answers blind; one BallotRecord per reviewer."""
    seed = secrets.randbelow(2**31) if seed is None else seed
    dispatch_fn = dispatch_fn or _default_dispatch(timeout)
    return stages.run_stage2(prompt, responses, dispatch_fn, seed, anonymize.draw_key())


def run_stage3(
    prompt: str,
    responses: Sequence[Response],
    rankings: Sequence[BallotRecord],
    chairman: str | None = None,
    dispatch_fn: stages.DispatchFn | None = None,
    timeout: float = 300.0,
    seed: int | None = None,
) -> Synthesis | None:
    """The chairman (default: the best-ranked seat; the next if it fails) writes the
    synthesis; None when none could."""
    seed = secrets.randbelow(2**31) if seed is None else seed
    seats = [r.model for r in responses]
    rows = tally.aggregate(rankings, seats, exclude_self=True)
    chairmen = [*([chairman] if chairman else []), *(r.seat for r in rows if r.seat != chairman)]
    text = stages.synthesis_prompt(prompt, responses, rankings, rows, seed, anonymize.draw_key())
    synthesis, _ = stages.run_stage3(text, chairmen, dispatch_fn or _default_dispatch(timeout))
    return synthesis


class _timed:
    def __init__(
        self, sink: dict[str, float], name: str, on_stage: Callable[[str], None] | None
    ) -> None:
        self.sink, self.name, self.on_stage = sink, name, on_stage

    def __enter__(self) -> None:
        if self.on_stage:
            self.on_stage(self.name)
        self.start = time.monotonic()

    def __exit__(self, *exc: object) -> None:
        self.sink[self.name] = round(time.monotonic() - self.start, 3)


def _default_dispatch(timeout: float) -> stages.DispatchFn:
    # lazy for start-up: callers that bring a dispatch_fn (the hosted council) skip fan-out
    from multi_model.fanout import dispatch  # noqa: PLC0415 - see above

    return lambda prompt, models: dispatch(models, prompt, timeout=timeout, distinct=True)
