"""Shared adapter helpers: classifier, reset-time parsing, env allowlist, no-answer reading."""

from __future__ import annotations

import pytest

from multi_model.models import RunOutput
from multi_model.providers import builtin
from multi_model.providers.base import (
    child_env,
    classify,
    parse_retry_after,
    stderr_tail,
)


@pytest.mark.parametrize("text, status", [
    ("unexpected status 401 Unauthorized: bad key", "auth_required"),
    ("Not logged in · Please run /login", "auth_required"),
    ("exceeded retry limit, last status: 429 Too Many Requests", "rate_limited"),
    ("You've hit your usage limit. Try again at 3:05 PM.", "rate_limited"),
    ("The model `x` does not exist or you do not have access to it.", "model_not_found"),
    ("Model metadata for `x` not found", "crashed"),  # a codex warning, never a terminal error
    ("Connection failed: error sending request", "network"),
    ("HTTP 503 Service Unavailable", "server_error"),
    ("prompt is too long: 250000 tokens > 200000 maximum", "oversize"),
    ("something odd happened", "crashed"),
])
def test_common_classifier(text: str, status: str) -> None:
    assert classify(text) == status


@pytest.mark.parametrize("text, seconds", [
    ("Individual quota reached. Resets in 156h13m", 156 * 3600 + 13 * 60),
    ("Resets in 37h50m21s", 37 * 3600 + 50 * 60 + 21),
    ("rate limited, retry after 20s", 20),
    ("Retry-After: 30", 30),
    ("try again in 1m30s", 90),
    ("quota resets in 2 days", 2 * 86400),
    ("wait 250ms", 0.25),
    ("Please wait and try again later.", None),
    ("429 Too Many Requests", None),
])
def test_parse_retry_after(text: str, seconds: float | None) -> None:
    assert parse_retry_after(text) == seconds


def test_stderr_tail_is_bounded_in_lines_and_characters() -> None:
    assert stderr_tail("a\nb\nc\n", lines=2) == "b\nc"
    assert len(stderr_tail("x" * 10_000_000)) == 4000


def test_child_env_keeps_basics_and_own_vars_only() -> None:
    parent = {"PATH": "/bin", "HOME": "/h", "LC_ALL": "C", "OPENAI_API_KEY": "o",
              "ANTHROPIC_API_KEY": "a", "CODEX_HOME": "/c", "RANDOM_SECRET": "s"}
    env = child_env(parent, ("OPENAI_*", "CODEX_*"), deny=("CODEX_HOME",))
    assert env == {"PATH": "/bin", "HOME": "/h", "LC_ALL": "C", "OPENAI_API_KEY": "o"}


def test_no_answer_turns_a_login_nag_into_auth_required_with_hint() -> None:
    codex = builtin("codex")
    nag = codex.no_answer(RunOutput(stdout="Not logged in. Run codex login.\n", exit_code=0),
                          "agent_message")
    assert nag.status == "auth_required" and "codex login" in (nag.error or "")
    garbage = codex.no_answer(RunOutput(stdout="\x1b[2J<html>", exit_code=0), "agent_message")
    assert garbage.status == "bad_output"
    assert codex.no_answer(RunOutput(exit_code=0), "agent_message").status == "empty_output"


def test_exit_failure_starts_at_the_last_error_line() -> None:
    out = RunOutput(stderr="Package extraction took 6345ms\nError: No authentication "
                           "information found.\n  Copilot can be authenticated with: ...\n",
                    exit_code=1)
    parsed = builtin("copilot").exit_failure(out)
    assert parsed.status == "auth_required"
    assert (parsed.error or "").startswith("Error: No authentication information found.")
