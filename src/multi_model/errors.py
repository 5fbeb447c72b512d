"""Exceptions for programming and usage errors. Provider failures are values, not exceptions.

The CLI maps each class to its documented exit code in one place (`commands/exits.py`).
"""

from __future__ import annotations


class MultiModelError(Exception):
    """Base class; `str(err)` is the one-line message shown to the user."""


class UsageError(MultiModelError):
    """Bad arguments or input (exit 2)."""


class ConfigError(UsageError):
    """A config file that cannot be read or does not validate (exit 2)."""


class ReviewInputError(UsageError):
    """Nothing to review can be collected: not a repository, git missing, a bad deny pattern
    (exit 2)."""


class RoutingError(MultiModelError):
    """A model spec that cannot be routed."""


class ClaudeModelRefused(RoutingError):
    """A Claude model was asked for without opting in (exit 3)."""

    def __init__(self, spec: str) -> None:
        super().__init__(
            f"{spec!r} is a Claude model: run Claude seats with Claude Code's own Agent tool "
            "(subagents), or opt in with --allow-claude-cli (claude -p) or "
            "--allow-cursor-claude (cursor-agent or another CLI that serves Claude)"
        )
        self.spec = spec


class UnknownProvider(RoutingError):
    """An explicit `provider:model` whose provider is neither built in nor configured (exit 4)."""

    def __init__(self, name: str, known: list[str], hint: str = "") -> None:
        super().__init__(
            f"unknown provider {name!r}; known: {', '.join(sorted(known))}"
            + (f" ({hint})" if hint else "")
        )
        self.name = name


class UnknownModel(RoutingError):
    """A bare name that only the catch-all route would take, that no provider, alias or
    catalog knows and that does not look like a model id; `close`: its near misses (exit 4)."""

    def __init__(self, spec: str, close: list[str]) -> None:
        hint = (
            f"did you mean {' or '.join(repr(c) for c in close)}?"
            if close
            else "it is no provider, alias or model this tool knows, and does not look like a "
            "model id (name-version, e.g. grok-4); write provider:model to send it as is"
        )
        super().__init__(f"unknown model {spec!r}: {hint}")
        self.spec, self.close = spec, close


class QuorumNotMet(MultiModelError):
    """Too few panelists answered for a peer review (its own exit code, 6)."""

    def __init__(self, needed: int, seats: list[tuple[str, str, str | None]]) -> None:
        lines = "; ".join(
            f"{seat}: {status}" + (f" ({error.splitlines()[0][:120]})" if error else "")
            for seat, status, error in seats
        )
        answered = sum(status == "ok" for _, status, _ in seats)
        super().__init__(
            f"quorum not met: {answered} of {len(seats)} seats answered, {needed} needed — {lines}"
        )
        self.seats = seats


class LocalModelUnavailable(MultiModelError):
    """The real-model demo's server could not be installed or started (exit 4); the message
    says why and where its log is."""


class PolicyViolation(MultiModelError):
    """A call the `[policy]` section of the user config forbids (exit 8); the message names
    the rule."""


class MissingExtra(MultiModelError):
    """A command whose optional extra is not installed (exit 9); the message names the
    `pip install` that adds it."""
