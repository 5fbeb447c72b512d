"""Recorded CLI output under tests/fixtures/<provider>/, as the runner reports it: one reader
per provider instead of a helper in every adapter's test file."""

from __future__ import annotations

from collections.abc import Callable

from multi_model.models import RunOutput
from tests.conftest import FIXTURES, fixture_text

Reader = Callable[..., RunOutput]


def sample(provider: str, name: str, exit_code: int = 0, stderr: str = "") -> RunOutput:
    """A sample file as a run's output: `*.stderr.txt` is what the CLI wrote to stderr, any
    other file its stdout (with `stderr` alongside)."""
    text = fixture_text(provider, name)
    if name.endswith(".stderr.txt"):
        return RunOutput(stderr=text, exit_code=exit_code)
    return RunOutput(stdout=text, stderr=stderr, exit_code=exit_code)


def reader(provider: str, exit_code: int = 0) -> Reader:
    """`sample` for one provider, with its own default exit code."""

    def read(name: str, exit_code: int = exit_code, stderr: str = "") -> RunOutput:
        return sample(provider, name, exit_code, stderr)

    return read


def ok_sample(provider: str) -> str | None:
    """The provider's recorded successful answer: its first `ok.*` stdout sample."""
    names = sorted(p.name for p in (FIXTURES / provider).glob("ok.*"))
    return next((n for n in names if not n.endswith(".stderr.txt")), None)
