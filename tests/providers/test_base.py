"""The adapter base classes: env allowlist, no-answer and exit-failure reading."""

from __future__ import annotations

from multi_model.models import RunOutput
from multi_model.providers import builtin
from multi_model.providers.base import child_env


def test_child_env_keeps_basics_and_own_vars_only() -> None:
    parent = {
        "PATH": "/bin",
        "HOME": "/h",
        "LC_ALL": "C",
        "OPENAI_API_KEY": "o",
        "ANTHROPIC_API_KEY": "a",
        "CODEX_HOME": "/c",
        "RANDOM_SECRET": "s",
    }
    env = child_env(parent, ("OPENAI_*", "CODEX_*"), deny=("CODEX_HOME",))
    assert env == {"PATH": "/bin", "HOME": "/h", "LC_ALL": "C", "OPENAI_API_KEY": "o"}


def test_no_answer_turns_a_login_nag_into_auth_required_with_hint() -> None:
    codex = builtin("codex")
    nag = codex.no_answer(
        RunOutput(stdout="Not logged in. Run codex login.\n", exit_code=0), "agent_message"
    )
    assert nag.status == "auth_required" and "codex login" in (nag.error or "")
    garbage = codex.no_answer(RunOutput(stdout="\x1b[2J<html>", exit_code=0), "agent_message")
    assert garbage.status == "bad_output"
    assert codex.no_answer(RunOutput(exit_code=0), "agent_message").status == "empty_output"


def test_exit_failure_starts_at_the_last_error_line() -> None:
    out = RunOutput(
        stderr="Package extraction took 6345ms\nError: No authentication "
        "information found.\n  Copilot can be authenticated with: ...\n",
        exit_code=1,
    )
    parsed = builtin("copilot").exit_failure(out)
    assert parsed.status == "auth_required"
    assert (parsed.error or "").startswith("Error: No authentication information found.")
