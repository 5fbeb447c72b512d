"""One hosted run directory (paths: council/store.py): the plan, the records, the Claude
seats' tasks, the stage workers and the step lock; and where runs live."""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from multi_model import proctree, runner
from multi_model.council import stages
from multi_model.council.hosted.plan import Plan, Seat, StageName, Step, Task
from multi_model.council.models import BallotRecord, Synthesis
from multi_model.council.store import RunStore
from multi_model.errors import UsageError
from multi_model.models import Response
from multi_model.paths import data_dir, question_inbox
from multi_model.util.fs import lock_for_child

WORKER_MODULE = "multi_model.council.hosted.worker"
LEFTOVER_GRACE_S = 0.5  # a dead worker's CLIs: SIGTERM, then SIGKILL


class Busy(Exception):
    """Another step holds the run's lock."""


class Run:
    """One run directory: the plan, the records, the tasks, the workers."""

    def __init__(self, root: Path) -> None:
        self.store = RunStore(root)
        self.root = root
        self.plan = self._load_plan()

    def _load_plan(self) -> Plan:
        data = self.store.read_json(RunStore.PLAN)
        if data is None:
            raise UsageError(f"{self.root} is not a council run started with `mm council start`")
        plan = Plan.model_validate(data)
        if "key" not in data:  # a run started before runs had a key: draw it once, keep it
            self.store.write_json(RunStore.PLAN, plan)
        return plan

    @property
    def run_id(self) -> str:
        return self.root.name

    def save(self) -> None:
        self.store.write_json(RunStore.PLAN, self.plan)

    def step(self, stage: StageName | Literal["done"], done: bool, **kw: object) -> Step:
        return Step(self.run_id, str(self.root), stage, done, **kw)  # type: ignore[arg-type]

    # records
    def answer(self, seat: str) -> Response | None:
        data = self.store.read_json(self.store.answer_rel(seat))
        return None if data is None else Response.model_validate(data)

    def ballot(self, seat: str) -> BallotRecord | None:
        data = self.store.read_json(self.store.ballot_rel(seat))
        return None if data is None else BallotRecord.model_validate(data)

    def synthesis(self) -> Synthesis | None:
        data = self.store.read_json(RunStore.SYNTHESIS)
        return None if data is None else Synthesis.model_validate(data)

    def chair_failures(self) -> list[str] | None:
        data = self.store.read_json(RunStore.CHAIR_FAILED)
        return None if data is None else [str(f) for f in data.get("failures", [])]

    def agent_chair_failed(self) -> bool:
        return self.store.path(RunStore.AGENT_CHAIR_FAILED).exists()

    def answers(self) -> list[Response]:
        return [a for a in (self.answer(s.id) for s in self.plan.seats) if a is not None]

    def answered(self) -> dict[str, str]:
        return {a.model: a.text for a in self.answers() if a.ok}

    def ballots(self) -> list[BallotRecord]:
        return [b for b in (self.ballot(s.id) for s in self.reviewers()) if b is not None]

    def review_task(self, reviewer: str) -> stages.ReviewTask:
        """What `reviewer` is shown in stage 2: the same shuffle, nonce, token and prompt the
        worker builds for a CLI reviewer (all derived from the plan's seed and key and the
        answers)."""
        plan = self.plan
        return stages.review_task(
            plan.question,
            self.answered(),
            reviewer,
            plan.seed,
            plan.key,
            plan.reviewers_per_answer,
        )

    def reviewers(self) -> list[Seat]:
        answered = self.answered()
        return [s for s in self.plan.seats if s.id in answered]

    def members(self, stage: StageName) -> Iterator[tuple[Seat, bool]]:
        """The seats of a stage, each with whether it has its record."""
        if stage == "answer":
            for seat in self.plan.seats:
                yield seat, self.answer(seat.id) is not None
        elif stage == "review":
            for seat in self.reviewers():
                yield seat, self.ballot(seat.id) is not None
        elif self.plan.chair_chain:
            first = self.plan.seat(self.plan.chair_chain[0])
            yield first, self.synthesis() is not None or self.agent_chair_failed()

    # tasks
    def task_paths(self, stage: StageName, seat: str) -> tuple[Path, Path]:
        return self.store.task_paths(stage, seat)

    def task(self, stage: StageName, seat: Seat, attempt: int = 1, note: str = "") -> Task:
        prompt, out = self.task_paths(stage, seat.id)
        return Task(
            seat.id,
            stage,
            seat.agent_model,
            str(prompt),
            str(out),
            self.plan.deadline(stage) or time.time(),
            attempt,
            note,
        )

    def open_task(self, stage: StageName, seat: Seat, prompt: str) -> Task:
        self.store.write_text(self.store.task_rels(stage, seat.id)[0], prompt)
        return self.task(stage, seat)

    # workers
    def lock_path(self, stage: StageName) -> Path:
        return self.store.path(self.store.worker_rel(stage, "lock"))

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

    def scope(self, stage: StageName) -> str:
        """The scope marker of the stage's worker and of every process it starts."""
        return proctree.scope_token("council", os.path.realpath(self.root), stage)

    def stop_leftovers(self, stage: StageName, grace: float = LEFTOVER_GRACE_S) -> None:
        """Stop every process a worker of the stage started (the worker too, if alive)."""
        proctree.stop_scope(self.scope(stage), grace)

    def start_worker(self, stage: StageName) -> None:
        """Start the stage's worker unless one is alive. The lock is taken here and handed
        to the child, so two steps can never start two workers for one stage; what a dead
        worker left running is stopped first, so no seat is ever asked twice at once."""
        path = self.lock_path(stage)
        path.parent.mkdir(parents=True, exist_ok=True)
        with lock_for_child(path) as fd:
            if fd is None:
                return  # alive
            self.stop_leftovers(stage)
            argv = [sys.executable, "-m", WORKER_MODULE, str(self.root), stage, str(fd)]
            env = {
                **os.environ,
                "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
                proctree.SCOPE_VAR: self.scope(stage),
            }
            log = str(self.store.path(self.store.worker_rel(stage, "log")))
            pid = runner.spawn_detached(argv, cwd=self.plan.cwd, env=env, log=log, keep_fd=fd)
            self.store.write_text(self.store.worker_rel(stage, "pid"), f"{pid}\n")

    def worker_pid(self, stage: StageName) -> int | None:
        """The pid of the stage's live worker, if one runs."""
        if not self.worker_alive(stage):
            return None
        try:
            return int(self.store.path(self.store.worker_rel(stage, "pid")).read_text())
        except (OSError, ValueError):
            return None

    def stop_worker(self, stage: StageName) -> None:
        pid = self.worker_pid(stage)
        if pid:
            runner.stop_detached([pid], grace=None)  # SIGTERM: the worker stops its CLIs

    # steps
    def refuse_if_cancelled(self) -> None:
        if self.store.path(RunStore.CANCELLED).exists():
            raise UsageError(f"council run {self.run_id} was cancelled (`mm jobs cancel`)")

    @contextmanager
    def step_lock(self, check: bool = True, wait: bool = True) -> Iterator[None]:
        """One step at a time per run (a host may fire two at once); `check`: refuse a run
        that was cancelled; `wait=False`: raise Busy rather than wait for another step."""
        with open(self.store.path(RunStore.STEP_LOCK), "a") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                raise Busy(f"a step of council run {self.run_id} is running") from None
            try:
                if check:
                    self.refuse_if_cancelled()
                self.plan = self._load_plan()  # what the previous holder saved
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)


def runs_dir(env: Mapping[str, str]) -> Path:
    return data_dir(env) / "runs"


def question_path(env: Mapping[str, str]) -> Path:
    """A new file name for a question (its folder made, the file not: a host's Write tool
    creates it). Written there rather than passed on a command line, where Claude Code's
    Bash checks refuse text with braces and quotes and a shell could misread it. The folder
    is the one the plugin's commands grant that Write (paths.question_inbox)."""
    folder = question_inbox(env)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.urandom(4).hex()}.md"


def find_run(ref: str | None, env: Mapping[str, str]) -> Run:
    """A run by id, by path, or (None) the newest run started with `mm council start`."""
    if ref and os.sep in ref:
        return Run(Path(ref))
    root = runs_dir(env)
    if ref:
        return Run(root / ref)
    found = sorted(p.parent for p in root.glob(f"*/{RunStore.PLAN}")) if root.is_dir() else []
    if not found:
        raise UsageError("no council run yet: start one with `mm council start`")
    return Run(found[-1])
