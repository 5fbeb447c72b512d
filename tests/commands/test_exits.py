"""commands/exits.py: the one table of exit codes and the rules that pick one."""

from __future__ import annotations

import pytest

from multi_model.commands import exits
from multi_model.commands.exits import Exit
from multi_model.errors import (
    ClaudeModelRefused,
    ConfigError,
    MissingExtra,
    MultiModelError,
    PolicyViolation,
    QuorumNotMet,
    UnknownProvider,
    UsageError,
)


def test_the_documented_codes() -> None:
    assert {e.name: int(e) for e in Exit} == {
        "OK": 0,
        "USAGE": 2,
        "CLAUDE": 3,
        "UNREACHABLE": 4,
        "ALL_FAILED": 5,
        "QUORUM": 6,
        "PENDING": 7,
        "POLICY": 8,
        "MISSING_EXTRA": 9,
        "INTERRUPTED": 130,
    }


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (QuorumNotMet(2, []), 6),
        (PolicyViolation("no"), 8),
        (MissingExtra("pip install"), 9),
        (ClaudeModelRefused("opus"), 3),
        (UnknownProvider("x", ["codex"]), 4),
        (UsageError("bad"), 2),
        (ConfigError("bad"), 2),
        (MultiModelError("any"), 2),
    ],
)
def test_errors_map_to_their_code(error: MultiModelError, code: int) -> None:
    assert exits.of_error(error) == code


@pytest.mark.parametrize(
    ("statuses", "code"),
    [
        (["ok", "timeout"], 0),
        (["not_installed", "model_not_found"], 4),
        (["not_installed", "timeout"], 5),
        ([], 5),
    ],
)
def test_ask_outcomes(statuses: list[str], code: int) -> None:
    assert exits.of_answers(statuses) == code


def test_council_and_step_outcomes() -> None:
    assert (exits.of_council(True), exits.of_council(False)) == (0, 5)
    assert (exits.of_step(True), exits.of_step(False)) == (0, 7)
    assert exits.of_host_step(True, None) == 6
    assert [exits.of_host_step(False, s) for s in (None, True, False)] == [0, 0, 5]
    assert [exits.of_reviews(r, n) for r, n in ((1, 2), (0, 0), (0, 2))] == [0, 0, 5]
