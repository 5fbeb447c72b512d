"""cursor-agent adapter, against fixtures written from Cursor's documented formats."""

from __future__ import annotations

import json

import pytest

import multi_model
from multi_model.config import Settings
from multi_model.models import Request, RunOutput
from multi_model.providers import builtin
from tests.providers.samples import reader

cursor = builtin("cursor-agent")


out = reader("cursor-agent")

err = reader("cursor-agent", exit_code=1)


def result(exit_code: int = 0, **fields: object) -> RunOutput:
    return RunOutput(stdout=json.dumps({"type": "result", **fields}) + "\n", exit_code=exit_code)


def test_build_reads_prompt_from_stdin_in_ask_mode() -> None:
    inv = cursor.build(
        Request(prompt="hi\n  there  ", model="gpt-5.5"), {"PATH": "/x"}, "/bin/cursor-agent"
    )
    assert inv.argv == (
        "/bin/cursor-agent",
        "--print",
        "--output-format",
        "json",
        "--mode",
        "ask",
        "--trust",
        "--model=gpt-5.5",
    )
    assert inv.stdin == "hi\n  there  "
    assert inv.env == {"PATH": "/x"}


def test_no_model_means_cli_default() -> None:
    argv = cursor.build(Request(prompt="p"), {}, "cursor-agent").argv
    assert not any(a.startswith("--model") for a in argv)


def test_writes_drop_ask_mode_and_force() -> None:
    argv = cursor.build(Request(prompt="p", allow_writes=True), {}, "cursor-agent").argv
    assert argv == ("cursor-agent", "--print", "--output-format", "json", "--force", "--trust")


def test_env_keeps_cursor_vars_only() -> None:
    parent = {
        "PATH": "/x",
        "CURSOR_API_KEY": "c",
        "OPENAI_API_KEY": "o",
        "ANTHROPIC_API_KEY": "a",
        "GH_TOKEN": "g",
    }
    assert cursor.env_for(parent) == {"PATH": "/x", "CURSOR_API_KEY": "c"}


def test_parse_ok_keeps_text_and_session() -> None:
    parsed = cursor.parse(out("ok.json-mode.from-docs.json"))
    assert parsed.status == "ok"
    assert parsed.text == "MOCK_OK: hello from the mock model"
    assert parsed.session_id == "c6b62c6f-7ead-4fd6-9922-e952131177ff"


@pytest.mark.parametrize(
    "name, status",
    [
        ("not-authenticated.from-docs.stderr.txt", "auth_required"),
        ("unknown-model.from-docs.stderr.txt", "model_not_found"),
    ],
)
def test_stderr_failures_classified(name: str, status: str) -> None:
    parsed = cursor.parse(err(name))
    assert parsed.status == status
    assert parsed.error


@pytest.mark.parametrize(
    "fields, status",
    [
        ({"subtype": "error", "is_error": True, "result": "Rate limit exceeded"}, "rate_limited"),
        ({"subtype": "error_max_turns", "is_error": True}, "crashed"),
    ],
)
def test_error_result_is_a_failure(fields: dict, status: str) -> None:
    parsed = cursor.parse(result(1, session_id="s-1", **fields))
    assert (parsed.status, parsed.session_id) == (status, "s-1")
    assert parsed.error


def test_answer_whitespace_kept_exactly() -> None:
    text = "  two\n\nparagraphs  \n"
    parsed = cursor.parse(result(subtype="success", is_error=False, result=text))
    assert parsed.text == text


@pytest.mark.parametrize(
    "run, status",
    [
        (RunOutput(stdout="\x1b[31mgarbage\x1b[0m", exit_code=0), "bad_output"),
        (RunOutput(stdout="", exit_code=0), "empty_output"),
        (result(subtype="success", is_error=False), "bad_output"),
    ],
)
def test_no_answer(run: RunOutput, status: str) -> None:
    assert cursor.parse(run).status == status


def test_login_nag_with_exit_zero_is_auth_required_that_says_log_in() -> None:
    parsed = cursor.parse(err("not-authenticated.from-docs.stderr.txt", exit_code=0))
    assert parsed.status == "auth_required"
    assert "cursor-agent login" in (parsed.error or "")


@pytest.mark.parametrize(
    "name, exit_code, state",
    [
        ("status-logged-out.from-docs.txt", 0, "logged_out"),
        ("status-logged-out.from-docs.txt", 1, "logged_out"),
        ("status-logged-in.from-docs.txt", 0, "logged_in"),
    ],
)
def test_status_probe(name: str, exit_code: int, state: str) -> None:
    assert cursor.auth.probe == ("status",)
    assert cursor.parse_auth(out(name, exit_code)) == state


def test_status_probe_timeout_is_unknown() -> None:
    assert cursor.parse_auth(RunOutput(timed_out=True, exit_code=-15)) == "unknown"


def test_models_probe_reads_ids() -> None:
    assert cursor.models_probe == ("models",)
    assert cursor.parse_models(out("models.from-docs.txt")) == [
        "auto",
        "composer-2",
        "composer-2-fast",
        "gpt-5.5",
        "gpt-5.5-high",
        "gpt-5.3-codex",
        "claude-opus-4-8",
        "claude-opus-4-8[effort=high]",
    ]


def test_models_probe_bare_ids_and_failure() -> None:
    assert cursor.parse_models(RunOutput(stdout="\x1b[1mauto\x1b[0m\ngpt-5.5\n", exit_code=0)) == [
        "auto",
        "gpt-5.5",
    ]
    assert cursor.parse_models(RunOutput(stdout="Authentication required\n", exit_code=1)) == []


def test_pipeline_with_fake_cursor_agent(fake_clis) -> None:  # type: ignore[no-untyped-def]
    fake_clis.set(
        "cursor-agent",
        fixture="cursor-agent/ok.json-mode.from-docs.json",
        version="2026.04.14-ee4b43a",
    )
    env = fake_clis.env(CURSOR_API_KEY="c", OPENAI_API_KEY="o", ANTHROPIC_API_KEY="a")
    [resp] = multi_model.dispatch(
        ["cursor-agent:gpt-5.5"], "say hi\n", settings=Settings(), env=env
    )
    assert (resp.status, resp.text) == ("ok", "MOCK_OK: hello from the mock model")
    assert resp.cli_version == "2026.04.14-ee4b43a"
    [call] = [c for c in fake_clis.calls("cursor-agent") if c["argv"][:1] != ["--version"]]
    assert call["argv"] == [
        "--print",
        "--output-format",
        "json",
        "--mode",
        "ask",
        "--trust",
        "--model=gpt-5.5",
    ]
    assert call["stdin"] == "say hi\n"
    assert call["env"]["CURSOR_API_KEY"] == "c"
    assert not {"OPENAI_API_KEY", "ANTHROPIC_API_KEY"} & set(call["env"])


def test_pipeline_failure_from_stderr(fake_clis) -> None:  # type: ignore[no-untyped-def]
    fake_clis.set(
        "cursor-agent",
        fixture="cursor-agent/not-authenticated.from-docs.stderr.txt",
        exit=1,
        version="2026.04.14-ee4b43a",
    )
    [resp] = multi_model.dispatch(["cursor-agent"], "p", settings=Settings(), env=fake_clis.env())
    assert (resp.status, resp.exit_code) == ("auth_required", 1)
    assert "cursor-agent login" in (resp.error or "")
