"""The one-shot council behind `mm council`: choose the panel, validate every spec before
anything runs, run the council with progress lines on a stream, and return the result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, TextIO

from multi_model import providers, render, store
from multi_model.config import Settings
from multi_model.council.models import CouncilResult
from multi_model.council.run import run_council
from multi_model.council.stages import DispatchFn
from multi_model.detect import availability
from multi_model.errors import UsageError
from multi_model.fanout import dispatch
from multi_model.models import Response
from multi_model.routing import route_all, split_specs

HEARTBEAT_S = 10.0  # a line this often while a stage's calls run, on a terminal

# One seat per rate bucket, most common first (each provider declares its bucket and rank).
BUCKETS: tuple[tuple[str, ...], ...] = providers.rate_buckets()


@dataclass(frozen=True)
class CouncilOptions:
    panel: list[str]
    chairman: str | None
    timeout: float | None
    seed: int | None
    min_answers: int
    allow_cursor_claude: bool
    allow_claude_cli: bool
    panel_from: str = "--panel"  # how the user chose the panel, for error messages
    reviewers_per_answer: int | None = None


def check_quorum(seats: int, min_answers: int, panel_from: str) -> None:
    """UsageError naming what the user typed: fewer than two seats, or a --min-answers
    outside 2..seats."""
    if seats < 2:
        raise UsageError(
            f"{panel_from} gives {seats} seat{'s' * (seats != 1)}; a council needs at least "
            "2 (name two or more models, e.g. --panel codex,gemini; see `mm detect`)"
        )
    if not 2 <= min_answers <= seats:
        raise UsageError(
            f"--min-answers {min_answers}: must be between 2 and the {seats} seats of {panel_from}"
        )


def available_clis(settings: Settings, env: Mapping[str, str]) -> list[str]:
    """Each rate bucket's first CLI that is installed and not known to be logged out."""
    available = availability(settings, env)
    found = (
        next((n for n in bucket if available(n) not in (None, "logged_out")), None)
        for bucket in BUCKETS
    )
    return [name for name in found if name]


def default_panel(settings: Settings, env: Mapping[str, str]) -> list[str]:
    """`available_clis`, each on its own default model. UsageError when fewer than two."""
    panel = available_clis(settings, env)
    if len(panel) < 2:
        raise UsageError(
            "no default panel: fewer than two installed, logged-in CLIs "
            "(see `mm detect --check-auth`); name one with --panel, or try --demo"
        )
    return panel


def run(
    question: str,
    options: CouncilOptions,
    settings: Settings,
    env: Mapping[str, str],
    progress: TextIO | None = None,
) -> CouncilResult:
    """Validate every spec, then run the council; raises before stage 1 for bad specs."""
    route_all(
        [*options.panel, *([options.chairman] if options.chairman else [])],
        settings,
        env,
        allow_cursor_claude=options.allow_cursor_claude,
        allow_claude_cli=options.allow_claude_cli,
    )
    check_quorum(len(options.panel), options.min_answers, options.panel_from)
    if options.reviewers_per_answer is not None and options.reviewers_per_answer < 1:
        raise UsageError(
            f"--reviewers-per-answer {options.reviewers_per_answer}: must be at least 1"
        )
    reporter = _Progress(progress) if progress else None
    try:
        return run_council(
            question,
            options.panel,
            options.chairman,
            dispatch_fn=_dispatcher(options, settings, env, reporter),
            timeout=options.timeout or settings.timeout,
            seed=options.seed,
            min_answers=options.min_answers,
            on_stage=reporter.stage if reporter else None,
            reviewers_per_answer=options.reviewers_per_answer,
        )
    finally:
        if reporter:
            reporter.heartbeat.close()


def _dispatcher(
    options: CouncilOptions, settings: Settings, env: Mapping[str, str], reporter: _Progress | None
) -> DispatchFn:
    labels = store.current_context()  # the caller's run id and source, for every thread

    def dispatch_fn(prompt: str, models: list[str]) -> list[Response]:
        with store.context(**labels):  # the reviews dispatch from a pool's threads
            return _dispatch(prompt, models)

    def _dispatch(prompt: str, models: list[str]) -> list[Response]:
        if reporter:
            reporter.heartbeat.add(models)
        return dispatch(
            models,
            prompt,
            timeout=options.timeout,
            settings=settings,
            env=env,
            on_result=reporter.seat if reporter else None,
            allow_cursor_claude=options.allow_cursor_claude,
            allow_claude_cli=options.allow_claude_cli,
            distinct=True,
        )

    return dispatch_fn


class _Progress:
    """One stderr line per stage and per finished call; on a terminal, a heartbeat line
    while a stage's calls run (`HEARTBEAT_S`)."""

    NAMES: ClassVar[dict[str, str]] = {
        "stage1": "stage 1/3: answers",
        "stage2": "stage 2/3: blind peer review",
        "stage3": "stage 3/3: synthesis",
    }

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.heartbeat = render.Heartbeat(stream, HEARTBEAT_S)

    def stage(self, name: str) -> None:
        self.heartbeat.stage(self.NAMES.get(name, name).partition(": ")[2] or name)
        self._write(f"{self.NAMES.get(name, name)}")

    def seat(self, index: int, response: Response) -> None:
        self.heartbeat.done(response.model)
        self._write(f"  {response.model}: {response.status} ({response.duration_s:.1f}s)")

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()


def split(specs: str | None, flag: str = "--panel") -> list[str]:
    """'a, b' -> ['a', 'b']; none -> []; UsageError for an empty entry (',,')."""
    return split_specs(specs, flag) if specs and specs.strip() else []


__all__ = ["CouncilOptions", "available_clis", "check_quorum", "default_panel", "run", "split"]
