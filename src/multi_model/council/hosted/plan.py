"""What a hosted council run is made of: its seats (a CLI, or a Claude seat run by Claude
Code's Agent tool), its plan (plan.json), a Claude seat's task and a step's report.

A Claude seat has no process to prove it ran: its records say so (provider "agent",
`metadata.provenance`), and only Claude seats accept a submission, so a host cannot write
an answer for a CLI seat.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from multi_model.config import Settings
from multi_model.council import anonymize, stages
from multi_model.council.models import CouncilResult
from multi_model.errors import ClaudeModelRefused, UsageError
from multi_model.models import AGENT_PROVIDER as AGENT_PROVIDER  # owned by models.py

StageName = Literal["answer", "review", "synthesis"]
STAGES: tuple[StageName, ...] = ("answer", "review", "synthesis")
AGENT_CLI = "Claude Code Agent tool"
AGENT_ALIASES = ("opus", "sonnet", "haiku", "fable")  # the Agent tool's `model` enum
AGENT_PLUGIN = "multi-model"
UNVERIFIED = "Claude Code subagent: no process record, the host's word"
KILL_GRACE_S = 30.0  # past a stage's deadline, a worker still alive is stopped
ANSWER_MAX = 200_000  # characters; a bigger submission is a mistake, not an answer
POLL_S = 0.3
AGENT_PROMPT = "Read the prompt file {prompt_file} and do what it asks."
LOSSY_GRACE_S = 15.0  # a reply without its exact text waits this long for the exact one


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
    key: str = Field(
        default_factory=anonymize.draw_key,
        min_length=32,
        description=(
            "Secret of the run's nonces and ballot tokens, from `secrets` (the seed is not "
            "secret: a user may choose it)."
        ),
    )
    min_answers: int
    exclude_self: bool = True
    reviewers_per_answer: int | None = Field(
        None, ge=1, description="Each answer reviewed by this many reviewers; None: by all."
    )
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
        raise UsageError(
            f"no seat {seat_id!r} in this run; seats: " + ", ".join(s.id for s in self.seats)
        )

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
        return {
            **self.__dict__,
            "agent": self.agent,
            "deadline_in_s": max(0, round(self.deadline - time.time())),
        }


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
    calls: list[dict[str, object]] = field(default_factory=list)
    """`next`: the Agent tool calls the host makes now (host.py)."""
    then: str | None = None
    """`next`: the command the host runs after the calls (None once done)."""
    error: str | None = None
    """Why the run ended without a result (quorum not met)."""

    def as_dict(self) -> dict[str, object]:
        return {
            "run_id": self.run_id,
            "job": self.run_id,
            "joined": self.joined,
            "run_dir": self.run_dir,
            "stage": self.stage,
            "done": self.done,
            "tasks": [t.as_dict() for t in self.tasks],
            "waiting": self.waiting,
            "notes": self.notes,
            "next": self.next,
        }

    def for_host(self) -> dict[str, object]:
        """What `start` and `next` print for the host: what to do now, nothing else."""
        return {
            "run_id": self.run_id,
            "job": self.run_id,
            "joined": self.joined,
            "run_dir": self.run_dir,
            "stage": self.stage,
            "done": self.done,
            "agent_calls": self.calls,
            "then": self.then,
            "waiting": self.waiting,
            "notes": self.notes,
            "error": self.error,
        }


def classify(
    specs: Sequence[str],
    settings: Settings,
    env: Mapping[str, str],
    *,
    allow_cursor_claude: bool,
    allow_claude_cli: bool,
) -> list[Seat]:
    """Seats for specs: a Claude model (not opted in to a CLI) is an Agent-tool seat; every
    other spec must route (UnknownProvider and friends raise here, before anything runs)."""
    # lazy for start-up: only opening a run routes and detects; the step commands do not
    from multi_model.detect import availability  # noqa: PLC0415 - see above
    from multi_model.routing import route  # noqa: PLC0415 - see above

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
