"""The council in steps, over a resumable run directory (its files: council/store.py).

    start       create the run; CLI seats answer in the background; the task of each Claude
                seat (a prompt file to read, an output file to write) is returned
    submit      a Claude seat's answer, ballot or synthesis, validated on the spot
                (submission.py)
    rank        once every answer is in: the blind review (CLI reviewers in the background,
                Claude reviewers as tasks)
    synthesize  once every ballot is in: the tally and the chairman (a task or a CLI)
    result      once the synthesis is in: the merged CouncilResult and report
    status      where the run is, seat by seat (reads only)

A run is also a background job (`mm jobs`, id = run id; job.py). In a run of CLI seats
only, each stage worker, once its seats are in, carries the run on (opens the next stage,
starts its worker, writes the result), so it finishes with no host; a run with Claude seats
goes on when its host steps. `cancel` stops the workers and every later step refuses the run.

Each step first does what the previous ones left undone, so running any step again continues
a run: a stage's worker that died is started again and asks only the seats that have no
record yet. A step that cannot finish yet (a CLI still running, a Claude seat not in before
its deadline) returns `done=False` with what it waits for; the command exits 7. How one
stage is opened and collected: stage.py.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

from multi_model import demo, runner
from multi_model.config import Settings
from multi_model.council.hosted.plan import POLL_S, STAGES, Plan, StageName, Step, classify
from multi_model.council.hosted.rundir import Busy, Run, runs_dir
from multi_model.council.hosted.stage import aggregate_rows, collect, open_stage
from multi_model.council.run import finish
from multi_model.council.store import RunStore, new_run_id
from multi_model.errors import MultiModelError, UsageError
from multi_model.jobs import Jobs

JOB_KIND = "council"
NEXT: dict[StageName, str] = {"answer": "rank", "review": "synthesize", "synthesis": "result"}


# --- start, carry on, cancel ----------------------------------------------------------------


def start(
    question: str,
    panel: Sequence[str],
    chairman: str | None,
    *,
    settings: Settings,
    env: Mapping[str, str],
    seed: int,
    min_answers: int,
    timeout: float,
    deadline_s: float,
    demo: bool = False,
    allow_cursor_claude: bool = False,
    allow_claude_cli: bool = False,
    reviewers_per_answer: int | None = None,
    root: Path | None = None,
    join: Mapping[str, object] | None = None,
) -> Step:
    """Create the run, register it as a job, and open stage 1. `join`: the request as it
    identifies the run; an identical one started within the jobs' join window is returned
    instead of a new run (None: always a new run). The council's job kind must be
    registered (import council.hosted.job)."""
    flags = {"allow_cursor_claude": allow_cursor_claude, "allow_claude_cli": allow_claude_cli}
    seats = classify(panel, settings, env, **flags)
    chair = None
    if chairman:
        chair = (
            next((s for s in seats if s.id == chairman), None)
            or classify([chairman], settings, env, **flags)[0]
        )
    if not 2 <= min_answers <= len(seats):
        raise UsageError(f"--min-answers must be between 2 and the panel size ({len(seats)})")
    jobs = Jobs(os.environ)
    request = {**(join or {}), "question": question}
    existing = jobs.joinable(JOB_KIND, request) if join is not None else None
    if existing is not None:  # an identical run started moments ago: that one
        step = advance(Run(Path(jobs.get(existing)["dir"])), "answer", wait=0)
        step.joined = True
        return step
    root = _reserve(Path(os.path.abspath(root or runs_dir(env) / new_run_id(seed))))
    plan = Plan(
        question=question,
        seats=seats,
        chairman=chair,
        seed=seed,
        min_answers=min_answers,
        timeout=timeout,
        deadline_s=deadline_s,
        demo=demo,
        cwd=os.getcwd(),
        allow_cursor_claude=allow_cursor_claude,
        allow_claude_cli=allow_claude_cli,
        reviewers_per_answer=reviewers_per_answer,
    )
    store = RunStore(root)
    store.write_json(RunStore.PLAN, plan)
    store.write_json(
        RunStore.RUN,
        {
            "question": question,
            "seats": [s.id for s in seats],
            "chairman": chairman,
            "seed": seed,
            "mode": "steps",
            "min_answers": min_answers,
            "timeout": timeout,
            "reviewers_per_answer": reviewers_per_answer,
        },
    )
    jobs.register(JOB_KIND, request if join is not None else {"run": str(root)}, root.name, root)
    return advance(Run(root), "answer", wait=0)


def _reserve(root: Path) -> Path:
    """A new run directory: `root`, or `root-2`, `root-3`... (run ids are per second and
    seed; a second start with the same seed within that second must not share the first's)."""
    root.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    candidate, n = root, 1
    while True:
        try:
            candidate.mkdir(mode=0o700)
            return candidate
        except FileExistsError:
            n += 1
            candidate = root.with_name(f"{root.name}-{n}")


def self_driving(plan: Plan) -> bool:
    """A run of CLI seats only (chairman included): its workers carry it to the result."""
    return all(s.kind == "cli" for s in [*plan.seats, *filter(None, [plan.chairman])])


def carry_on(root: Path) -> None:
    """Take a run of CLI seats only as far as it goes now (restart a dead stage worker, open
    the next stage, write the result), unless a step is running already. A run with Claude
    seats is left to its host's steps: a step here could take a seat's output file before
    the host's `submit` does, and answer the host with "no open task". Never raises: a run
    that cannot go on (quorum, cancelled) has recorded why."""
    try:
        run = Run(root)
        if not self_driving(run.plan):
            return
        with run.step_lock(wait=False):
            _advance(run, "done", wait=0)
    except (Busy, MultiModelError, OSError, ValueError) as exc:
        sys.stderr.write(f"not carried on: {exc or type(exc).__name__}\n")


def cancel(run: Run, grace: float) -> None:
    """Stop the run: no step continues it after this; its workers get SIGTERM (their CLIs
    stop with them), then SIGKILL after `grace` seconds. The mark comes first: a step
    waiting with the lock sees it at its next poll and lets go, and no worker is started
    once the lock is taken here. Then whatever any worker started is stopped too."""
    run.store.write_json(
        RunStore.CANCELLED, {"error": "cancelled by `mm jobs cancel`", "t": time.time()}
    )
    with run.step_lock(check=False):
        runner.stop_detached([p for p in (run.worker_pid(s) for s in STAGES) if p], grace)
        for stage in STAGES:  # what a worker killed earlier left, and what left a group
            run.stop_leftovers(stage)


# --- steps ----------------------------------------------------------------------------------


def advance(run: Run, target: StageName | Literal["done"], wait: float) -> Step:
    """Move the run as far as it goes toward `target`, waiting up to `wait` s for CLIs."""
    with run.step_lock():
        return _advance(run, target, wait)


def _advance(run: Run, target: StageName | Literal["done"], wait: float) -> Step:
    until = time.monotonic() + wait
    while True:
        step = once(run, target)
        if step.done or time.monotonic() >= until or not _worth_waiting(run, step):
            return step
        time.sleep(POLL_S)
        run.refuse_if_cancelled()


def _worth_waiting(run: Run, step: Step) -> bool:
    """Wait while a worker runs or a Claude seat's output may still appear: not when the
    host itself has to act first (a task with no output file yet and no worker running)."""
    stage = step.stage
    if stage == "done":
        return False
    if run.worker_alive(stage):
        return True
    return any(Path(t.output_file).exists() for t in step.tasks)


def once(run: Run, target: StageName | Literal["done"]) -> Step:
    """One pass: open and collect each stage in turn; stop at the first stage that is not
    complete (done=False, unless it is the target: a step has done its job once its stage
    is open) or at the target."""
    for stage in STAGES:
        if stage not in run.plan.opened:
            open_stage(run, stage)
        step = collect(run, stage)
        complete = step.done
        if stage == target:
            step.done = True
            step.next = f"mm council {NEXT[stage]} {run.root}"
            return step
        if not complete:
            return step
    return _result(run)


# --- status, result -------------------------------------------------------------------------


def status(run: Run) -> Step:
    """Where the run is; reads only (no file is accepted, no worker started)."""
    plan = run.plan
    if run.store.path(RunStore.RESULT).exists():
        return run.step("done", True, notes=[f"result: {run.store.path(RunStore.REPORT)}"])
    stage: StageName = next((s for s in reversed(STAGES) if s in plan.opened), "answer")
    lines = []
    for seat, has in run.members(stage):
        alive = seat.kind == "cli" and run.worker_alive(stage)
        lines.append(
            f"{seat.id}: "
            + (
                "in"
                if has
                else "CLI running"
                if alive
                else "CLI not running"
                if seat.kind == "cli"
                else "waiting for the Claude seat"
            )
        )
    left = (plan.deadline(stage) or 0) - time.time()
    return run.step(
        stage, False, waiting=lines, notes=[f"stage {stage}: deadline in {max(0, round(left))} s"]
    )


def _result(run: Run) -> Step:
    plan = run.plan
    synthesis = run.synthesis()
    failures = run.chair_failures() or []
    agent_failed = run.store.read_json(RunStore.AGENT_CHAIR_FAILED)
    if agent_failed:
        failures = [f"{agent_failed['chairman']}: {agent_failed['error']}", *failures]
        if synthesis is not None:
            synthesis = synthesis.model_copy(
                update={"fallback_from": [str(agent_failed["chairman"]), *synthesis.fallback_from]}
            )
    answers = demo.marks(plan.demo).label(run.answers())
    kinds = {s.id: s.kind for s in plan.seats}
    result = finish(
        run.store,
        question=plan.question,
        seats=[s.id for s in plan.seats],
        answers=answers,
        ballots=run.ballots(),
        rows=aggregate_rows(run),
        synthesis=synthesis,
        failures=failures,
        seed=plan.seed,
        chairman=plan.chairman.id if plan.chairman else None,
        exclude_self=plan.exclude_self,
        min_answers=plan.min_answers,
        extra={
            "mode": "steps",
            "seat_kinds": {**kinds},
            "demo": plan.demo,
            "deadline_s": plan.deadline_s,
            "reviewers_per_answer": plan.reviewers_per_answer,
        },
    )
    return run.step("done", True, result=result)
