"""One stage of a stepped council run (the steps: machine.py): open it (the Claude seats'
tasks, the stage's prompts) and collect it (accept the Claude seats' files, mark what is
overdue, start the worker for the CLI seats)."""

from __future__ import annotations

import time

from multi_model.council import stages, tally
from multi_model.council.hosted.plan import KILL_GRACE_S, Seat, StageName, Step, Task
from multi_model.council.hosted.rundir import Run
from multi_model.council.hosted.submission import accept_file, record_missing
from multi_model.council.models import AggregateRow
from multi_model.council.store import RunStore
from multi_model.errors import QuorumNotMet


def open_stage(run: Run, stage: StageName) -> None:
    """Open a stage: write the Claude seats' tasks, start the worker for the CLI seats."""
    run.plan.opened[stage] = time.time()
    if stage == "answer":
        for seat in run.plan.seats:
            if seat.kind == "agent":
                run.open_task(stage, seat, run.plan.question)
    elif stage == "review":
        _open_review(run)
    else:
        _open_synthesis(run)
    run.save()


def _open_review(run: Run) -> None:
    plan, answers = run.plan, run.answers()
    if sum(a.ok for a in answers) < plan.min_answers:
        plan.opened.pop("review")
        exc = QuorumNotMet(plan.min_answers, [(a.model, a.status, a.error) for a in answers])
        run.store.write_json(RunStore.FAILED, {"error": str(exc)})  # for `mm jobs`
        raise exc
    for seat in run.reviewers():
        if seat.kind == "agent":
            task = run.review_task(seat.id)
            run.open_task("review", seat, task.prompt)
            run.store.write_text(run.store.review_prompt_rel(seat.id), task.prompt)


def _open_synthesis(run: Run) -> None:
    plan, rows = run.plan, aggregate_rows(run)
    first = plan.chairman or plan.seat(rows[0].seat)
    cli = {s.id for s in plan.seats if s.kind == "cli"}
    plan.chair_chain = [first.id, *(r.seat for r in rows if r.seat != first.id and r.seat in cli)]
    prompt = stages.synthesis_prompt(
        plan.question, run.answers(), run.ballots(), rows, plan.seed, plan.key
    )
    run.store.write_text(RunStore.SYNTHESIS_PROMPT, prompt)
    if first.kind == "agent":
        run.open_task("synthesis", first, prompt)


def aggregate_rows(run: Run) -> list[AggregateRow]:
    seats = [s.id for s in run.plan.seats]
    return tally.aggregate(run.ballots(), seats, exclude_self=run.plan.exclude_self)


def collect(run: Run, stage: StageName) -> Step:
    """Accept the Claude seats' files, mark what is overdue, (re)start the worker if CLI work
    is left and none runs. done=True when every seat of the stage has a record."""
    if stage == "synthesis":
        return _collect_synthesis(run)
    now = time.time()
    deadline = run.plan.deadline(stage) or now
    tasks: list[Task] = []
    notes: list[str] = []
    cli_left: list[str] = []
    for seat, has_record in run.members(stage):
        if has_record:
            continue
        if seat.kind == "cli":
            cli_left.append(seat.id)
        elif (task := _agent_task(run, stage, seat, now >= deadline)) is not None:
            tasks.append(task)
        elif _is_missing(run, stage, seat):
            notes.append(f"{seat.id}: missing (nothing valid by the deadline)")
    if cli_left and now >= deadline + KILL_GRACE_S:
        _give_up_on_clis(run, stage, cli_left, notes)
        cli_left = []
    elif cli_left:
        run.start_worker(stage)
    waiting = [f"{s}: CLI running" for s in cli_left] + [
        f"{t.seat}: Claude seat ({t.stage})" for t in tasks
    ]
    return run.step(stage, not tasks and not cli_left, tasks=tasks, waiting=waiting, notes=notes)


def _give_up_on_clis(run: Run, stage: StageName, seat_ids: list[str], notes: list[str]) -> None:
    run.stop_worker(stage)
    for seat_id in seat_ids:
        record_missing(run, stage, run.plan.seat(seat_id))
        notes.append(f"{seat_id}: missing (its CLI call outlived the deadline)")


def _is_missing(run: Run, stage: StageName, seat: Seat) -> bool:
    record = run.answer(seat.id) if stage == "answer" else run.ballot(seat.id)
    return record is not None and record.status == "missing"


def _agent_task(run: Run, stage: StageName, seat: Seat, overdue: bool) -> Task | None:
    """The open task of a Claude seat, or None once it has a record (its file accepted now,
    or marked missing because the deadline passed)."""
    outcome = accept_file(run, stage, seat)
    if outcome is True:
        return None
    if overdue:
        record_missing(run, stage, seat)
        return None
    attempt, note = outcome if isinstance(outcome, tuple) else (1, "")
    return run.task(stage, seat, attempt, note)


def _collect_synthesis(run: Run) -> Step:
    """The first chairman may be a Claude seat; if it goes missing, or from the start when it
    is a CLI, the worker runs the CLI chairmen in turn (Claude seats are not re-tasked)."""
    plan = run.plan
    if run.synthesis() is not None or run.chair_failures() is not None:
        return run.step("synthesis", True)
    first = plan.seat(plan.chair_chain[0])
    if first.kind == "agent" and not run.agent_chair_failed():
        overdue = time.time() >= (plan.deadline("synthesis") or 0)
        task = _agent_task(run, "synthesis", first, overdue)
        if task is not None:
            return run.step(
                "synthesis", False, tasks=[task], waiting=[f"{first.id}: Claude seat (synthesis)"]
            )
        if run.synthesis() is not None:
            return run.step("synthesis", True)
    if not [c for c in plan.chair_chain if plan.seat(c).kind == "cli"]:
        run.store.write_json(RunStore.CHAIR_FAILED, {"failures": []})
        return run.step("synthesis", True)
    run.start_worker("synthesis")
    return run.step("synthesis", False, waiting=["chairman: CLI running"])
