"""A council stage's background worker:
`python -m multi_model.council.hosted.worker RUN STAGE FD`.

Started by `Run.start_worker` (never by hand), detached from the step that started it. It
asks the CLI seats of one stage that have no record yet and writes each record as soon as it
lands, so a worker killed half-way loses nothing finished: the next step starts a new one for
the rest.
FD is the stage's lock, taken by the starter and held here until exit (that is how a step
tells a live worker from a dead one). SIGTERM stops every child CLI, as Ctrl-C does in `mm`.
In a run of CLI seats only, once its seats are in, it carries the run on (`machine.carry_on`):
the next stage opens and its worker starts, or the result is written; no host is needed.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from multi_model import demo, store
from multi_model.config import Settings, load_settings
from multi_model.council import stages
from multi_model.council.hosted.machine import carry_on
from multi_model.council.hosted.plan import Plan
from multi_model.council.hosted.rundir import Run
from multi_model.council.store import RunStore
from multi_model.fanout import OnResult, dispatch
from multi_model.models import Response
from multi_model.util.signals import sigterm_interrupts


def main(argv: Sequence[str]) -> int:
    with sigterm_interrupts():
        return _work(Path(argv[0]), argv[1])


def _work(root: Path, stage: str) -> int:
    run = Run(root)
    plan = run.plan
    env, settings = worker_env(plan)
    options = {
        "timeout": plan.timeout,
        "settings": settings,
        "env": env,
        "cwd": plan.cwd,
        "allow_cursor_claude": plan.allow_cursor_claude,
        "allow_claude_cli": plan.allow_claude_cli,
        "distinct": True,
    }

    def dispatch_fn(
        prompt: str, models: list[str], on_result: OnResult | None = None
    ) -> list[Response]:
        # set here, not around the stage: the reviews dispatch from a pool's threads
        with store.context(run_id=root.name, source="council", demo="1" if plan.demo else ""):
            return dispatch(models, prompt, on_result=on_result, **options)  # type: ignore[arg-type]

    try:
        if stage == "answer":
            _answers(run, dispatch_fn)
        elif stage == "review":
            _reviews(run, dispatch_fn)
        else:
            _chairman(run, dispatch_fn)
    except KeyboardInterrupt:
        return 130
    except Exception:  # noqa: BLE001 - recorded, so the step reports it instead of waiting
        _crashed(run, stage, traceback.format_exc(limit=5))
        if stage != "review":  # its records are written; a review crash would only recur
            carry_on(root)
        return 1
    carry_on(root)
    return 0


def _answers(run: Run, dispatch_fn: Callable[..., list[Response]]) -> None:
    """Every CLI seat without a record answers; each record is written as it lands."""
    seats = [s.id for s in run.plan.seats if s.kind == "cli" and run.answer(s.id) is None]

    def record(index: int, response: Response) -> None:
        run.store.write_json(
            run.store.answer_rel(seats[index]), response.model_copy(update={"model": seats[index]})
        )

    if seats:
        dispatch_fn(run.plan.question, [stages.model_of(s) for s in seats], on_result=record)


def _reviews(run: Run, dispatch_fn: stages.DispatchFn) -> None:
    plan = run.plan
    answered = run.answered()
    reviewers = [s.id for s in run.reviewers() if s.kind == "cli" and run.ballot(s.id) is None]
    with ThreadPoolExecutor(max_workers=max(1, len(reviewers))) as pool:
        list(
            pool.map(
                lambda r: stages.run_review(
                    plan.question,
                    answered,
                    r,
                    dispatch_fn,
                    plan.seed,
                    plan.key,
                    run.store,
                    plan.reviewers_per_answer,
                ),
                reviewers,
            )
        )


def _chairman(run: Run, dispatch_fn: stages.DispatchFn) -> None:
    plan = run.plan
    chain = [c for c in plan.chair_chain if plan.seat(c).kind == "cli"]
    prompt = run.store.path(RunStore.SYNTHESIS_PROMPT).read_text(encoding="utf-8")
    synthesis, failures = stages.run_stage3(prompt, chain, dispatch_fn, run.store)
    if synthesis is None:
        run.store.write_json(RunStore.CHAIR_FAILED, {"failures": failures})


def _crashed(run: Run, stage: str, trace: str) -> None:
    error = f"internal error in the {stage} worker: {trace.strip().splitlines()[-1]}"
    if stage == "answer":
        for seat in run.plan.seats:
            if seat.kind == "cli" and run.answer(seat.id) is None:
                run.store.write_json(
                    run.store.answer_rel(seat.id),
                    Response(
                        model=seat.id,
                        provider="",
                        status="crashed",
                        error=error,
                        metadata={"traceback": trace},
                    ),
                )
    elif stage == "synthesis":
        run.store.write_json(RunStore.CHAIR_FAILED, {"failures": [error]})
    sys.stderr.write(trace)


def worker_env(plan: Plan) -> tuple[dict[str, str], Settings]:
    """The environment and settings the worker dispatches with (the stand-ins', in a run
    that recorded them)."""
    panel = demo.of_record(plan.demo, ",".join(s.id for s in plan.seats if s.kind == "cli"))
    env = panel.env or dict(os.environ)
    return env, panel.settings or load_settings(plan.cwd, env).settings


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
