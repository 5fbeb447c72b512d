"""The council in steps, over a resumable run directory, for a host that runs some seats
itself: Claude Code runs the Claude seats with its Agent tool while the CLIs answer in a
background worker. Driven by `mm council start | submit | rank | synthesize | result | status`.

    start       create the run; CLI seats answer in the background; the task of each Claude
                seat (a prompt file to read, an output file to write) is returned
    submit      a Claude seat's answer, ballot or synthesis, validated on the spot
    rank        once every answer is in: the blind review (CLI reviewers in the background,
                Claude reviewers as tasks)
    synthesize  once every ballot is in: the tally and the chairman (a task or a CLI)
    result      once the synthesis is in: the merged CouncilResult and report
    status      where the run is, seat by seat (reads only)

A run is also a background job (`mm jobs`, id = run id). In a run of CLI seats only, each
stage worker, once its seats are in, carries the run on (opens the next stage, starts its
worker, writes the result), so it finishes with no host; a run with Claude seats goes on
when its host steps. `cancel` stops the workers and every later step refuses the run.

Each step first does what the previous ones left undone, so running any step again continues
a run: a stage's worker that died is started again and asks only the seats that have no
record yet. A step that cannot finish yet (a CLI still running, a Claude seat not in before
its deadline) returns `done=False` with what it waits for; the command exits 7.

Files, beside the one-shot layout of store.py (stage1/, stage2/, stage3/, result.json):
    plan.json                          seats and their kind, settings, when each stage opened
    tasks/<stage>/<seat>.prompt.md     what a Claude seat must answer (stage: answer, review,
    tasks/<stage>/<seat>.md | .json    synthesis) and the file it writes
    workers/<stage>.lock | .pid | .log the stage's background worker (holds the lock while alive)
    failed.json | cancelled.json       why the run ended without a result (quorum; cancel)

A Claude seat has no process to prove it ran: its records say so (provider "agent",
`metadata.provenance`), and only Claude seats accept a submission, so a host cannot write
an answer for a CLI seat.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from multi_model import runner
from multi_model.config import Settings, data_dir, load_settings
from multi_model.council import stages, tally
from multi_model.council.models import BallotRecord, CouncilResult, Synthesis
from multi_model.council.run import finish
from multi_model.council.store import RunStore, new_run_id, slug
from multi_model.errors import ClaudeModelRefused, MultiModelError, QuorumNotMet, UsageError
from multi_model.jobs import Jobs
from multi_model.models import Response

StageName = Literal["answer", "review", "synthesis"]
STAGES: tuple[StageName, ...] = ("answer", "review", "synthesis")
AGENT_PROVIDER = "agent"
AGENT_CLI = "Claude Code Agent tool"
AGENT_ALIASES = ("opus", "sonnet", "haiku", "fable")  # the Agent tool's `model` enum
AGENT_PLUGIN = "multi-model"
UNVERIFIED = "Claude Code subagent: no process record, the host's word"
KILL_GRACE_S = 30.0  # past a stage's deadline, a worker still alive is stopped
ANSWER_MAX = 200_000  # characters; a bigger submission is a mistake, not an answer
POLL_S = 0.3


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class Seat(_Model):
    id: str
    kind: Literal["cli", "agent"]
    agent_model: str | None = Field(None, description="Agent tool model alias; None: inherit.")


class Plan(_Model):
    """plan.json: everything a later step or the worker needs to go on."""

    question: str
    seats: list[Seat]
    chairman: Seat | None
    seed: int
    min_answers: int
    exclude_self: bool = True
    timeout: float = Field(description="Per CLI call, seconds.")
    deadline_s: float = Field(description="Per stage: Claude seats not in by then are missing.")
    demo: bool = False
    allow_cursor_claude: bool = False
    allow_claude_cli: bool = False
    cwd: str
    opened: dict[str, float] = Field(default_factory=dict, description="stage -> epoch s.")
    chair_chain: list[str] = Field(default_factory=list)

    def seat(self, seat_id: str) -> Seat:
        for seat in [*self.seats, *([self.chairman] if self.chairman else [])]:
            if seat.id == seat_id:
                return seat
        raise UsageError(f"no seat {seat_id!r} in this run; seats: "
                         + ", ".join(s.id for s in self.seats))

    def deadline(self, stage: StageName) -> float | None:
        opened = self.opened.get(stage)
        return None if opened is None else opened + self.deadline_s


@dataclass(frozen=True)
class Task:
    """One Claude seat's job: read `prompt_file`, write the reply to `output_file`."""

    seat: str
    stage: StageName
    model: str | None
    prompt_file: str
    output_file: str
    deadline: float
    attempt: int = 1
    note: str = ""

    @property
    def agent(self) -> str:
        """The plugin subagent that runs this seat (its frontmatter sets the model)."""
        return f"{AGENT_PLUGIN}:panelist" + (f"-{self.model}" if self.model else "")

    def as_dict(self) -> dict[str, object]:
        return {**self.__dict__, "agent": self.agent,
                "deadline_in_s": max(0, round(self.deadline - time.time()))}


@dataclass
class Step:
    """What a step did and what is left: printed for the host (Markdown or JSON)."""

    run_id: str
    run_dir: str
    stage: StageName | Literal["done"]
    done: bool
    tasks: list[Task] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    next: str | None = None
    result: CouncilResult | None = None
    joined: bool = False
    """`start` found an identical run started moments ago and returned that one."""

    def as_dict(self) -> dict[str, object]:
        return {"run_id": self.run_id, "job": self.run_id, "joined": self.joined,
                "run_dir": self.run_dir, "stage": self.stage, "done": self.done,
                "tasks": [t.as_dict() for t in self.tasks],
                "waiting": self.waiting, "notes": self.notes, "next": self.next}


# --- the run --------------------------------------------------------------------------------

class Run:
    """One run directory: the plan, the records, the tasks, the workers."""

    def __init__(self, root: Path) -> None:
        self.store = RunStore(root)
        self.root = root
        data = self.store.read_json("plan.json")
        if data is None:
            raise UsageError(f"{root} is not a council run started with `mm council start`")
        self.plan = Plan.model_validate(data)

    @property
    def run_id(self) -> str:
        return self.root.name

    def save(self) -> None:
        self.store.write_json("plan.json", self.plan)

    def step(self, stage: StageName | Literal["done"], done: bool, **kw: object) -> Step:
        return Step(self.run_id, str(self.root), stage, done, **kw)  # type: ignore[arg-type]

    # records
    def answer(self, seat: str) -> Response | None:
        data = self.store.read_json(f"stage1/{slug(seat)}.json")
        return None if data is None else Response.model_validate(data)

    def ballot(self, seat: str) -> BallotRecord | None:
        data = self.store.read_json(f"stage2/{slug(seat)}.json")
        return None if data is None else BallotRecord.model_validate(data)

    def synthesis(self) -> Synthesis | None:
        data = self.store.read_json("stage3/synthesis.json")
        return None if data is None else Synthesis.model_validate(data)

    def chair_failures(self) -> list[str] | None:
        data = self.store.read_json("stage3/failed.json")
        return None if data is None else [str(f) for f in data.get("failures", [])]

    def answers(self) -> list[Response]:
        return [a for a in (self.answer(s.id) for s in self.plan.seats) if a is not None]

    def answered(self) -> dict[str, str]:
        return {a.model: a.text for a in self.answers() if a.ok}

    def review_task(self, reviewer: str) -> stages.ReviewTask:
        """What `reviewer` is shown in stage 2: the same shuffle, nonce and prompt the worker
        builds for a CLI reviewer (all derived from the plan's seed and the answers)."""
        plan, answered = self.plan, self.answered()
        nonce = stages.stage2_nonce(plan.question, answered, plan.seed)
        return stages.review_task(plan.question, answered, reviewer, plan.seed, nonce)

    def reviewers(self) -> list[Seat]:
        answered = self.answered()
        return [s for s in self.plan.seats if s.id in answered]

    # tasks
    def task_paths(self, stage: StageName, seat: str) -> tuple[Path, Path]:
        out = ".json" if stage == "review" else ".md"
        base = self.root / "tasks" / stage / slug(seat)
        return base.with_suffix(".prompt.md"), base.with_suffix(out)

    def task(self, stage: StageName, seat: Seat, attempt: int = 1, note: str = "") -> Task:
        prompt, out = self.task_paths(stage, seat.id)
        return Task(seat.id, stage, seat.agent_model, str(prompt), str(out),
                    self.plan.deadline(stage) or time.time(), attempt, note)

    def open_task(self, stage: StageName, seat: Seat, prompt: str) -> Task:
        path, _ = self.task_paths(stage, seat.id)
        self.store.write_text(str(path.relative_to(self.root)), prompt)
        return self.task(stage, seat)

    # workers
    def lock_path(self, stage: StageName) -> Path:
        return self.root / "workers" / f"{stage}.lock"

    def worker_alive(self, stage: StageName) -> bool:
        path = self.lock_path(stage)
        if not path.exists():
            return False
        with open(path, "a") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
            fcntl.flock(f, fcntl.LOCK_UN)
        return False

    def start_worker(self, stage: StageName) -> None:
        """Start the stage's worker unless one is alive. The lock is taken here and handed
        to the child, so two steps can never start two workers for one stage."""
        path = self.lock_path(stage)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return  # alive
            argv = [sys.executable, "-m", "multi_model.council.worker", str(self.root), stage,
                    str(fd)]
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
            pid = runner.spawn_detached(argv, cwd=self.plan.cwd, env=env,
                                        log=str(path.with_suffix(".log")), keep_fd=fd)
            self.store.write_text(f"workers/{stage}.pid", f"{pid}\n")
        finally:
            os.close(fd)

    def worker_pid(self, stage: StageName) -> int | None:
        """The pid of the stage's live worker, if one runs."""
        if not self.worker_alive(stage):
            return None
        try:
            return int(self.store.path(f"workers/{stage}.pid").read_text())
        except (OSError, ValueError):
            return None

    def stop_worker(self, stage: StageName) -> None:
        pid = self.worker_pid(stage)
        if pid:
            runner.stop_detached([pid], grace=None)  # SIGTERM: the worker stops its CLIs


# --- steps ----------------------------------------------------------------------------------

def runs_dir(env: Mapping[str, str]) -> Path:
    return data_dir(env) / "runs"


def question_path(env: Mapping[str, str]) -> Path:
    """A new file name for a question (its folder made, the file not: a host's Write tool
    creates it). Written there rather than passed on a command line, where Claude Code's
    Bash checks refuse text with braces and quotes and a shell could misread it."""
    folder = data_dir(env) / "questions"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.urandom(4).hex()}.md"


def find_run(ref: str | None, env: Mapping[str, str]) -> Run:
    """A run by id, by path, or (None) the newest run started with `mm council start`."""
    if ref and os.sep in ref:
        return Run(Path(ref))
    root = runs_dir(env)
    if ref:
        return Run(root / ref)
    candidates = sorted(p.parent for p in root.glob("*/plan.json")) if root.is_dir() else []
    if not candidates:
        raise UsageError("no council run yet: start one with `mm council start`")
    return Run(candidates[-1])


def classify(specs: Sequence[str], settings: Settings, env: Mapping[str, str], *,
             allow_cursor_claude: bool, allow_claude_cli: bool) -> list[Seat]:
    """Seats for specs: a Claude model (not opted in to a CLI) is an Agent-tool seat; every
    other spec must route (UnknownProvider and friends raise here, before anything runs)."""
    from multi_model.detect import availability
    from multi_model.routing import route

    available = availability(settings, env)
    seats = []
    for seat_id in stages.seat_ids(specs):
        spec = stages.model_of(seat_id)
        try:
            route(spec, settings, available, allow_claude_cli, allow_cursor_claude)
            seats.append(Seat(id=seat_id, kind="cli"))
        except ClaudeModelRefused:
            seats.append(Seat(id=seat_id, kind="agent", agent_model=agent_alias(spec)))
    return seats


def agent_alias(spec: str) -> str | None:
    """The Agent tool's model for a Claude spec: claude:opus, opus, claude-opus-4-8 -> opus;
    plain `claude` -> None (the host's own model)."""
    lowered = spec.lower()
    return next((a for a in AGENT_ALIASES if a in lowered), None)


def start(question: str, panel: Sequence[str], chairman: str | None, *, settings: Settings,
          env: Mapping[str, str], seed: int, min_answers: int, timeout: float,
          deadline_s: float, demo: bool = False, allow_cursor_claude: bool = False,
          allow_claude_cli: bool = False, root: Path | None = None,
          join: Mapping[str, object] | None = None) -> Step:
    """Create the run, register it as a job, and open stage 1. `join`: the request as it
    identifies the run; an identical one started within the jobs' join window is returned
    instead of a new run (None: always a new run)."""
    flags = {"allow_cursor_claude": allow_cursor_claude, "allow_claude_cli": allow_claude_cli}
    seats = classify(panel, settings, env, **flags)
    chair = None
    if chairman:
        chair = next((s for s in seats if s.id == chairman), None) or classify(
            [chairman], settings, env, **flags)[0]
    if not 2 <= min_answers <= len(seats):
        raise UsageError(f"--min-answers must be between 2 and the panel size ({len(seats)})")
    jobs = Jobs(os.environ)
    request = {**(join or {}), "question": question}
    existing = jobs.joinable("council", request) if join is not None else None
    if existing is not None:  # an identical run started moments ago: that one
        step = advance(Run(Path(jobs.get(existing)["dir"])), "answer", wait=0)
        step.joined = True
        return step
    root = _reserve(Path(os.path.abspath(root or runs_dir(env) / new_run_id(seed))))
    plan = Plan(question=question, seats=seats, chairman=chair, seed=seed,
                min_answers=min_answers, timeout=timeout, deadline_s=deadline_s, demo=demo,
                cwd=os.getcwd(), **flags)
    store = RunStore(root)
    store.write_json("plan.json", plan)
    store.write_json("run.json", {"question": question, "seats": [s.id for s in seats],
                                  "chairman": chairman, "seed": seed, "mode": "steps",
                                  "min_answers": min_answers, "timeout": timeout})
    jobs.register("council", request if join is not None else {"run": str(root)}, root.name,
                  root)
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
        with _step_lock(run, wait=False):
            _advance(run, "done", wait=0)
    except (_Busy, MultiModelError, OSError, ValueError) as exc:
        sys.stderr.write(f"not carried on: {exc or type(exc).__name__}\n")


def cancel(run: Run, grace: float) -> None:
    """Stop the run: no step continues it after this; its workers get SIGTERM (their CLIs
    stop with them), then SIGKILL after `grace` seconds. The mark comes first: a step
    waiting with the lock sees it at its next poll and lets go, and no worker is started
    once the lock is taken here."""
    run.store.write_json("cancelled.json", {"error": "cancelled by `mm jobs cancel`",
                                            "t": time.time()})
    with _step_lock(run, check=False):
        runner.stop_detached([p for p in (run.worker_pid(s) for s in STAGES) if p], grace)


def advance(run: Run, target: StageName | Literal["done"], wait: float) -> Step:
    """Move the run as far as it goes toward `target`, waiting up to `wait` s for CLIs."""
    with _step_lock(run):
        return _advance(run, target, wait)


def _advance(run: Run, target: StageName | Literal["done"], wait: float) -> Step:
    until = time.monotonic() + wait
    while True:
        step = _once(run, target)
        if step.done or time.monotonic() >= until or not _worth_waiting(run, step):
            return step
        time.sleep(POLL_S)
        _refuse_cancelled(run)


def _worth_waiting(run: Run, step: Step) -> bool:
    """Wait while a worker runs or a Claude seat's output may still appear: not when the
    host itself has to act first (a task with no output file yet and no worker running)."""
    stage = step.stage
    if stage == "done":
        return False
    if run.worker_alive(stage):
        return True
    return any(Path(t.output_file).exists() for t in step.tasks)


def _once(run: Run, target: StageName | Literal["done"]) -> Step:
    """One pass: open and collect each stage in turn; stop at the first stage that is not
    complete (done=False, unless it is the target: a step has done its job once its stage
    is open) or at the target."""
    for stage in STAGES:
        if stage not in run.plan.opened:
            _open(run, stage)
        step = _collect(run, stage)
        complete = step.done
        if stage == target:
            step.done = True
            step.next = f"mm council {NEXT[stage]} {run.root}"
            return step
        if not complete:
            return step
    return _result(run)


NEXT: dict[StageName, str] = {"answer": "rank", "review": "synthesize", "synthesis": "result"}


def _open(run: Run, stage: StageName) -> None:
    """Open a stage: write the Claude seats' tasks, start the worker for the CLI seats."""
    plan = run.plan
    plan.opened[stage] = time.time()
    if stage == "answer":
        for seat in plan.seats:
            if seat.kind == "agent":
                run.open_task(stage, seat, plan.question)
    elif stage == "review":
        answers = run.answers()
        if sum(a.ok for a in answers) < plan.min_answers:
            plan.opened.pop(stage)
            exc = QuorumNotMet(plan.min_answers, [(a.model, a.status, a.error) for a in answers])
            run.store.write_json("failed.json", {"error": str(exc)})  # for `mm jobs`
            raise exc
        for seat in run.reviewers():
            if seat.kind == "agent":
                task = run.review_task(seat.id)
                run.open_task(stage, seat, task.prompt)
                run.store.write_text(f"stage2/{slug(seat.id)}.prompt.md", task.prompt)
    else:
        rows = _rows(run)
        first = plan.chairman or plan.seat(rows[0].seat)
        cli = {s.id for s in plan.seats if s.kind == "cli"}
        plan.chair_chain = [first.id, *(r.seat for r in rows
                                        if r.seat != first.id and r.seat in cli)]
        prompt = stages.synthesis_prompt(plan.question, run.answers(), _ballots(run), rows,
                                         plan.seed)
        run.store.write_text("stage3/prompt.md", prompt)
        if first.kind == "agent":
            run.open_task(stage, first, prompt)
    run.save()


def _rows(run: Run) -> list:  # type: ignore[type-arg]
    seats = [s.id for s in run.plan.seats]
    return tally.aggregate(_ballots(run), seats, exclude_self=run.plan.exclude_self)


def _ballots(run: Run) -> list[BallotRecord]:
    return [b for b in (run.ballot(s.id) for s in run.reviewers()) if b is not None]


def _collect(run: Run, stage: StageName) -> Step:
    """Accept the Claude seats' files, mark what is overdue, (re)start the worker if CLI work
    is left and none runs. done=True when every seat of the stage has a record."""
    if stage == "synthesis":
        return _collect_synthesis(run)
    plan = run.plan
    deadline = plan.deadline(stage) or time.time()
    now = time.time()
    tasks: list[Task] = []
    notes: list[str] = []
    cli_left: list[str] = []
    for seat, has_record in _members(run, stage):
        if has_record:
            continue
        if seat.kind == "cli":
            cli_left.append(seat.id)
            continue
        task = _agent_task(run, stage, seat, now >= deadline)
        if task is not None:
            tasks.append(task)
        elif _is_missing(run, stage, seat):
            notes.append(f"{seat.id}: missing (nothing valid by the deadline)")
    if cli_left and now >= deadline + KILL_GRACE_S:
        run.stop_worker(stage)
        for seat_id in cli_left:
            _record_missing(run, stage, plan.seat(seat_id))
            notes.append(f"{seat_id}: missing (its CLI call outlived the deadline)")
        cli_left = []
    elif cli_left:
        run.start_worker(stage)
    waiting = [f"{s}: CLI running" for s in cli_left] + [f"{t.seat}: Claude seat ({t.stage})"
                                                         for t in tasks]
    return run.step(stage, not tasks and not cli_left, tasks=tasks, waiting=waiting,
                    notes=notes)


def _is_missing(run: Run, stage: StageName, seat: Seat) -> bool:
    record = run.answer(seat.id) if stage == "answer" else run.ballot(seat.id)
    return record is not None and record.status == "missing"


def _agent_task(run: Run, stage: StageName, seat: Seat, overdue: bool) -> Task | None:
    """The open task of a Claude seat, or None once it has a record (its file accepted now,
    or marked missing because the deadline passed)."""
    outcome = _accept_file(run, stage, seat)
    if outcome is True:
        return None
    if overdue:
        _record_missing(run, stage, seat)
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
    if first.kind == "agent" and not run.store.path("stage3/agent-failed.json").exists():
        overdue = time.time() >= (plan.deadline("synthesis") or 0)
        task = _agent_task(run, "synthesis", first, overdue)
        if task is not None:
            return run.step("synthesis", False, tasks=[task],
                            waiting=[f"{first.id}: Claude seat (synthesis)"])
        if run.synthesis() is not None:
            return run.step("synthesis", True)
    if not [c for c in plan.chair_chain if plan.seat(c).kind == "cli"]:
        run.store.write_json("stage3/failed.json", {"failures": []})
        return run.step("synthesis", True)
    run.start_worker("synthesis")
    return run.step("synthesis", False, waiting=["chairman: CLI running"])


def _members(run: Run, stage: StageName) -> Iterator[tuple[Seat, bool]]:
    if stage == "answer":
        for seat in run.plan.seats:
            yield seat, run.answer(seat.id) is not None
    elif stage == "review":
        for seat in run.reviewers():
            yield seat, run.ballot(seat.id) is not None
    elif run.plan.chair_chain:
        first = run.plan.seat(run.plan.chair_chain[0])
        done = run.synthesis() is not None or run.store.path("stage3/agent-failed.json").exists()
        yield first, done


def _accept_file(run: Run, stage: StageName, seat: Seat) -> bool | tuple[int, str] | None:
    """Validate a Claude seat's output file if it wrote one: True when accepted; (attempt,
    note) when it was rejected and a repair task is open; None when there is no file."""
    _, out = run.task_paths(stage, seat.id)
    if not out.exists():
        state = run.store.read_json(f"tasks/{stage}/{slug(seat.id)}.state.json") or {}
        return (int(state.get("attempt", 1)), str(state.get("note", ""))) if state else None
    try:
        text = out.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return _reject(run, stage, seat, [f"cannot read {out}: {exc}"])
    errors = accept(run, stage, seat, text, via="file")
    if errors:
        return _reject(run, stage, seat, errors)
    return True


def _reject(run: Run, stage: StageName, seat: Seat, errors: list[str]) -> tuple[int, str]:
    """The output file goes (kept as raw-N.txt for a ballot), the task stays open with why."""
    _, out = run.task_paths(stage, seat.id)
    out.unlink(missing_ok=True)
    state = run.store.read_json(f"tasks/{stage}/{slug(seat.id)}.state.json") or {}
    attempt = int(state.get("attempt", 1))
    note = "rejected: " + "; ".join(errors)
    run.store.write_json(f"tasks/{stage}/{slug(seat.id)}.state.json",
                         {"attempt": attempt, "note": note})
    return attempt, note


def accept(run: Run, stage: StageName, seat: Seat, text: str, via: str) -> list[str]:
    """Validate and record one Claude seat's reply; the errors when it is not accepted.
    A ballot gets the same single repair as a CLI reviewer: the second invalid one is
    recorded as invalid (and accepted as that seat's last word)."""
    plan = run.plan
    meta = {"seat_kind": "agent", "provenance": UNVERIFIED, "submitted_via": via,
            "agent_model": seat.agent_model}
    if stage in ("answer", "synthesis"):
        if not text.strip():
            return ["the reply is empty"]
        if len(text) > ANSWER_MAX:
            return [f"the reply has {len(text)} characters; at most {ANSWER_MAX} are taken"]
    if stage == "answer":
        took = round(time.time() - plan.opened.get(stage, time.time()), 3)
        run.store.write_json(f"stage1/{slug(seat.id)}.json", Response(
            model=seat.id, provider=AGENT_PROVIDER, text=text, status="ok", cli_used=AGENT_CLI,
            duration_s=took, metadata={**meta, "model_requested": seat.agent_model}))
        return []
    if stage == "synthesis":
        run.store.write_text("stage3/raw-agent.txt", text)
        run.store.write_json("stage3/synthesis.json", Synthesis(chairman=seat.id, text=text))
        return []
    return _accept_ballot(run, seat, text)


def _accept_ballot(run: Run, seat: Seat, text: str) -> list[str]:
    task = run.review_task(seat.id)
    state_rel = f"tasks/review/{slug(seat.id)}.state.json"
    attempt = int((run.store.read_json(state_rel) or {}).get("attempt", 1))
    run.store.write_text(f"stage2/{slug(seat.id)}.raw-{attempt}.txt", text)
    record, errors = stages.judge_ballot(task, text, attempt)
    if not errors or attempt >= 2:
        run.store.write_json(f"stage2/{slug(seat.id)}.json", record)
        return []
    prompt_path, _ = run.task_paths("review", seat.id)
    run.store.write_text(str(prompt_path.relative_to(run.root)), task.repair_prompt(errors))
    run.store.write_json(state_rel, {"attempt": 2, "note": "repair: " + "; ".join(errors)})
    return errors


def _record_missing(run: Run, stage: StageName, seat: Seat) -> None:
    error = "missing: nothing valid before the stage's deadline"
    if stage == "answer":
        run.store.write_json(f"stage1/{slug(seat.id)}.json", Response(
            model=seat.id, provider=AGENT_PROVIDER if seat.kind == "agent" else "",
            status="missing", error=error, cli_used=AGENT_CLI if seat.kind == "agent" else None,
            metadata={"seat_kind": seat.kind}))
    elif stage == "review":
        run.store.write_json(f"stage2/{slug(seat.id)}.json",
                             run.review_task(seat.id).record(status="missing", error=error))
    else:
        run.store.write_json("stage3/agent-failed.json", {"chairman": seat.id, "error": error})


def submit(run: Run, seat_id: str, text: str, stage: StageName | None = None) -> Step:
    """A Claude seat's reply, validated now. Raises UsageError for a CLI seat, a seat with no
    open task, or a reply that does not validate (with every error, so it can be fixed)."""
    with _step_lock(run):
        seat = agent_seat(run, seat_id)
        stage = stage or open_stage_of(run, seat)
        if stage is None:
            raise UsageError(f"{seat_id} has no open task (see `mm council status`)")
        errors = accept(run, stage, seat, text, via="submit")
        _, out = run.task_paths(stage, seat_id)
        out.unlink(missing_ok=True)  # taken (or kept as raw-N.txt); the repair writes anew
        if errors:
            repair = (f"; send the seat the repair prompt {run.task_paths(stage, seat_id)[0]}"
                      if stage == "review" else "")
            raise Rejected(f"{stage} from {seat_id} rejected" + repair, errors)
        return run.step(stage, True, notes=[f"{seat_id}: {stage} accepted"])


def agent_seat(run: Run, seat_id: str) -> Seat:
    """The seat, if it takes submissions: only Claude seats do."""
    seat = run.plan.seat(seat_id)
    if seat.kind != "agent":
        raise UsageError(f"{seat_id} is a CLI seat: its answers come from its own process, "
                         "never from a submission")
    return seat


class Rejected(UsageError):
    """A submission that does not validate; `errors` lists every problem (exit 2)."""

    def __init__(self, message: str, errors: list[str]) -> None:
        super().__init__(message + ": " + " | ".join(errors))
        self.errors = errors


def open_stage_of(run: Run, seat: Seat) -> StageName | None:
    for stage in STAGES:
        if stage not in run.plan.opened:
            return None
        if any(s.id == seat.id and not has for s, has in _members(run, stage)):
            return stage
    return None


def status(run: Run) -> Step:
    """Where the run is; reads only (no file is accepted, no worker started)."""
    plan = run.plan
    if run.store.path("result.json").exists():
        return run.step("done", True, notes=[f"result: {run.store.path('report.md')}"])
    stage = next((s for s in reversed(STAGES) if s in plan.opened), "answer")
    lines = []
    for seat, has in _members(run, stage):
        alive = seat.kind == "cli" and run.worker_alive(stage)
        lines.append(f"{seat.id}: " + ("in" if has else "CLI running" if alive
                                        else "CLI not running" if seat.kind == "cli"
                                        else "waiting for the Claude seat"))
    left = (plan.deadline(stage) or 0) - time.time()
    return run.step(stage, False, waiting=lines,
                    notes=[f"stage {stage}: deadline in {max(0, round(left))} s"])


def _result(run: Run) -> Step:
    plan = run.plan
    synthesis = run.synthesis()
    failures = run.chair_failures() or []
    agent_failed = run.store.read_json("stage3/agent-failed.json")
    if agent_failed:
        failures = [f"{agent_failed['chairman']}: {agent_failed['error']}", *failures]
        if synthesis is not None:
            synthesis = synthesis.model_copy(update={
                "fallback_from": [str(agent_failed["chairman"]), *synthesis.fallback_from]})
    answers = run.answers()
    if plan.demo:
        from multi_model import demo

        answers = demo.label(answers)
    kinds = {s.id: s.kind for s in plan.seats}
    result = finish(run.store, question=plan.question, seats=[s.id for s in plan.seats],
                    answers=answers, ballots=_ballots(run), rows=_rows(run),
                    synthesis=synthesis, failures=failures, seed=plan.seed,
                    chairman=plan.chairman.id if plan.chairman else None,
                    exclude_self=plan.exclude_self, min_answers=plan.min_answers,
                    extra={"mode": "steps", "seat_kinds": kinds, "demo": plan.demo,
                           "deadline_s": plan.deadline_s})
    return run.step("done", True, result=result)


class _Busy(Exception):
    """Another step holds the run's lock."""


def _refuse_cancelled(run: Run) -> None:
    if run.store.path("cancelled.json").exists():
        raise UsageError(f"council run {run.run_id} was cancelled (`mm jobs cancel`)")


@contextmanager
def _step_lock(run: Run, check: bool = True, wait: bool = True) -> Iterator[None]:
    """One step at a time per run (a host may fire two at once); `check`: refuse a run that
    was cancelled; `wait=False`: raise _Busy rather than wait for another step."""
    path = run.root / "step.lock"
    with open(path, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise _Busy(f"a step of council run {run.run_id} is running") from None
        try:
            if check:
                _refuse_cancelled(run)
            run.plan = Run(run.root).plan  # what the previous holder saved
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def worker_env(plan: Plan) -> tuple[dict[str, str], Settings]:
    """The environment and settings the worker dispatches with (the demo's, in a demo run)."""
    if plan.demo:
        from multi_model import demo

        env, settings, _ = demo.setup(",".join(s.id for s in plan.seats if s.kind == "cli")
                                      or None)
        return env, settings
    env = dict(os.environ)
    return env, load_settings(plan.cwd, env).settings
