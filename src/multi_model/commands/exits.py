"""The exit codes of `mm`, and the one place they are decided. `MEANINGS` below is their
one description: every `--help` page ends with it (`epilog`), and the README quotes it.

`mm` with no command prints its usage on stderr and exits 2 (USAGE): a script that forgot
its command fails instead of reading the help as output.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum

from multi_model.errors import (
    ClaudeModelRefused,
    LocalModelUnavailable,
    MissingExtra,
    MultiModelError,
    PolicyViolation,
    QuorumNotMet,
    UnknownModel,
    UnknownProvider,
)


class Exit(IntEnum):
    OK = 0
    USAGE = 2
    CLAUDE = 3
    UNREACHABLE = 4
    ALL_FAILED = 5
    QUORUM = 6
    PENDING = 7
    POLICY = 8
    MISSING_EXTRA = 9
    INTERRUPTED = 130


MEANINGS: dict[Exit, str] = {
    Exit.OK: "ok (`ask`: at least one answer)",
    Exit.USAGE: "bad arguments or input, unreadable config, no command",
    Exit.CLAUDE: "a Claude model asked for without --allow-claude-cli / --allow-cursor-claude",
    Exit.UNREACHABLE: "unreachable model: unknown provider, unknown model (a near miss: "
    '"did you mean"), or no answer and every failure was not_installed / model_not_found; '
    "`--demo local` could not install or start its server",
    Exit.ALL_FAILED: "every call failed (`council`: no chairman wrote the synthesis)",
    Exit.QUORUM: "`council`: quorum not met (too few seats answered for the peer review)",
    Exit.PENDING: "`council <step>` / `jobs result`: not finished yet; run it again",
    Exit.POLICY: "refused by `[policy]` in the user config (the message names the rule)",
    Exit.MISSING_EXTRA: "an optional extra is not installed (the message names the install)",
    Exit.INTERRUPTED: "interrupted (Ctrl-C, SIGTERM)",
}


def epilog() -> str:
    """The exit codes, one line each, as every help page ends."""
    return "exit codes:\n" + "".join(f"  {int(c):>3}  {text}\n" for c, text in MEANINGS.items())


# the first class an error is an instance of decides; MultiModelError last
ERRORS: dict[type[MultiModelError], Exit] = {
    QuorumNotMet: Exit.QUORUM,
    PolicyViolation: Exit.POLICY,
    MissingExtra: Exit.MISSING_EXTRA,
    ClaudeModelRefused: Exit.CLAUDE,
    UnknownProvider: Exit.UNREACHABLE,
    UnknownModel: Exit.UNREACHABLE,
    LocalModelUnavailable: Exit.UNREACHABLE,
    MultiModelError: Exit.USAGE,
}
UNREACHABLE_STATUSES = frozenset({"not_installed", "model_not_found"})


def of_error(exc: MultiModelError) -> Exit:
    return next(code for cls, code in ERRORS.items() if isinstance(exc, cls))


def of_answers(statuses: Iterable[str]) -> Exit:
    """`ask`: OK with one answer; UNREACHABLE when every failure was a missing CLI or model;
    else ALL_FAILED (also for no responses at all)."""
    seen = list(statuses)
    if "ok" in seen:
        return Exit.OK
    if seen and all(s in UNREACHABLE_STATUSES for s in seen):
        return Exit.UNREACHABLE
    return Exit.ALL_FAILED


def of_council(synthesized: bool) -> Exit:
    """A finished council: OK with a synthesis; ALL_FAILED when no chairman wrote one."""
    return Exit.OK if synthesized else Exit.ALL_FAILED


def of_step(done: bool) -> Exit:
    """A council step that has no result yet: OK when its stage is open, else PENDING."""
    return Exit.OK if done else Exit.PENDING


def of_host_step(stopped: bool, synthesized: bool | None) -> Exit:
    """`council next`: QUORUM when the run stopped; ALL_FAILED for a result without a
    synthesis (`synthesized` is None while there is no result); OK otherwise."""
    if stopped:
        return Exit.QUORUM
    return Exit.ALL_FAILED if synthesized is False else Exit.OK


def of_reviews(ran: int, reviewers: int) -> Exit:
    """`review`: OK when one reviewer ran (or none was asked); else ALL_FAILED."""
    return Exit.OK if ran or not reviewers else Exit.ALL_FAILED
