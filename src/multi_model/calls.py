"""The adapter-facing call pieces (stdlib only, so the runner and the hooks load no pydantic):
a `Request` to build a call from, the `Invocation` or `HttpCall` an adapter builds, and the
`RunOutput` or `HttpReply` the runner observed. Frozen dataclasses, built on every call, never
leaving the process. `models` re-exports them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

PROMPT_FILE = "\x00mm-prompt-file\x00"
"""Placeholder an adapter may put in argv; the runner swaps in the path of a 0600 temp file
holding the prompt, for CLIs that read a prompt file but not stdin."""


MODEL_ID_MAX = 200
MODEL_ID_RE = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._:/@+-]{{0,{MODEL_ID_MAX - 1}}}")
"""A model id (and a model spec): it reaches a CLI's argv, so it is one strict token that
never starts with '-' and can never be read as a flag (`--agent=build`, `--yolo`)."""


def model_id_problem(value: object) -> str | None:
    """Why `value` cannot be a model id or spec, in a few words; None when it can."""
    if isinstance(value, str) and MODEL_ID_RE.fullmatch(value):
        return None
    if not isinstance(value, str) or not value.strip():
        return "a model id cannot be empty"
    shown = repr(value[:60] + ("…" if len(value) > 60 else ""))
    if value.startswith("-"):
        return f"model id {shown} starts with '-' and would read as a command-line flag"
    if len(value) > MODEL_ID_MAX:
        return f"model id {shown} is over {MODEL_ID_MAX} characters"
    return (
        f"model id {shown} may hold only letters, digits and . _ : / @ + - "
        "(starting with a letter or digit)"
    )


@dataclass(frozen=True)
class Request:
    """What an adapter needs to build one call. `model` None means the CLI's own default.
    Raises ValueError for a model id (or session id) that could read as a flag in argv."""

    prompt: str
    model: str | None = None
    cwd: str | None = None
    timeout: float = 300.0
    extra_args: tuple[str, ...] = ()
    allow_writes: bool = False
    resume: str | None = None
    """The CLI's own session id to continue (`--session`); None starts a new conversation."""
    max_tokens: int | None = None
    """The output cap a model server is asked for (HTTP providers); None: the server's own."""

    def __post_init__(self) -> None:
        problem = None if self.model is None else model_id_problem(self.model)
        if problem:
            raise ValueError(problem)
        if self.resume is not None and (not self.resume or self.resume.startswith("-")):
            raise ValueError(f"session id {self.resume[:60]!r} would read as a flag")


@dataclass(frozen=True)
class Invocation:
    """A process to start: argv (argv[0] resolved by the runner), full child env, stdin text."""

    argv: tuple[str, ...]
    env: Mapping[str, str]
    stdin: str | None = None
    cwd: str | None = None
    prompt_file: str | None = None


@dataclass(frozen=True)
class RunOutput:
    """What the runner observed. `spawn_error` is set when the process never started."""

    stdout: str = ""
    stderr: str = ""
    exit_code: int | None = None
    duration_s: float = 0.0
    timed_out: bool = False
    truncated: bool = False
    cancelled: bool = False
    spawn_error: str | None = None
    executable: str | None = None


@dataclass(frozen=True)
class HttpCall:
    """One HTTP request for an API provider (ollama, OpenAI-compatible servers)."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None


@dataclass(frozen=True)
class HttpReply:
    """What came back. `status` 0 with `error` set means no HTTP answer at all."""

    status: int
    body: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    duration_s: float = 0.0
    timed_out: bool = False
    truncated: bool = False
    error: str | None = None
    url: str = ""
