"""copilot adapter: argv/stdin/env built right, recorded outputs parsed and classified."""

from __future__ import annotations

import json

import pytest

import multi_model
from multi_model.config import Settings
from multi_model.models import Request, RunOutput
from multi_model.providers import builtin
from tests.providers.samples import reader

copilot = builtin("copilot")


out = reader("copilot")

err = reader("copilot", exit_code=1)


def events(*items: dict, exit_code: int = 0) -> RunOutput:
    return RunOutput(stdout="".join(json.dumps(i) + "\n" for i in items), exit_code=exit_code)


def session_error(**data: object) -> RunOutput:
    return events(
        {"type": "session.error", "data": data},
        {"type": "result", "sessionId": "s-1", "exitCode": 1},
        exit_code=1,
    )


def test_build_reads_prompt_from_stdin_with_writes_denied() -> None:
    inv = copilot.build(
        Request(prompt="hi\n  there  ", model="gpt-5.4"), {"PATH": "/x"}, "/bin/copilot"
    )
    assert inv.argv == (
        "/bin/copilot",
        "--output-format",
        "json",
        "--no-auto-update",
        "--no-ask-user",
        "--model=gpt-5.4",
        "--deny-tool=write",
        "--deny-tool=shell",
    )
    assert inv.stdin == "hi\n  there  "
    assert inv.env == {"PATH": "/x"}


def test_no_model_means_cli_default() -> None:
    argv = copilot.build(Request(prompt="p"), {}, "copilot").argv
    assert not any(a.startswith("--model") for a in argv)


def test_writes_only_when_allowed() -> None:
    argv = copilot.build(Request(prompt="p", allow_writes=True), {}, "copilot").argv
    assert "--allow-all-tools" in argv
    assert not [a for a in argv if a.startswith("--deny-tool")]


def test_env_keeps_github_and_copilot_vars_only() -> None:
    parent = {
        "PATH": "/x",
        "COPILOT_GITHUB_TOKEN": "c",
        "COPILOT_MODEL": "m",
        "GH_TOKEN": "g",
        "GITHUB_TOKEN": "t",
        "GH_HOST": "h",
        "OPENAI_API_KEY": "o",
        "ANTHROPIC_API_KEY": "a",
        "GH_ENTERPRISE_TOKEN": "e",
    }
    assert copilot.env_for(parent) == {
        k: parent[k]
        for k in (
            "PATH",
            "COPILOT_GITHUB_TOKEN",
            "COPILOT_MODEL",
            "GH_TOKEN",
            "GITHUB_TOKEN",
            "GH_HOST",
        )
    }


@pytest.mark.parametrize(
    "name", ["ok.output-format-json.jsonl", "ok.stdin.output-format-json.jsonl"]
)
def test_parse_ok_keeps_text_session_and_model(name: str) -> None:
    parsed = copilot.parse(out(name))
    assert parsed.status == "ok"
    assert parsed.text == "MOCK_OK: hello from the mock model"
    assert parsed.model_reported == "mock-model"
    assert parsed.session_id and len(parsed.session_id) == 36


def test_ok_session_id_comes_from_result_event() -> None:
    parsed = copilot.parse(out("ok.output-format-json.jsonl"))
    assert parsed.session_id == "5107dbf0-f772-4e2c-b876-6b3b2fd566cf"


@pytest.mark.parametrize(
    "name, text",
    [
        ("tool-denied.default.output-format-json.jsonl", "MOCK_DONE: tool step finished"),
        ("tool-denied.deny-tool.output-format-json.jsonl", "MOCK_OK: hello from the mock model"),
        ("tool-write.allow-all-tools.output-format-json.jsonl", "MOCK_DONE: tool step finished"),
    ],
)
def test_answer_is_the_message_after_the_tool_step(name: str, text: str) -> None:
    parsed = copilot.parse(out(name))
    assert (parsed.status, parsed.text) == ("ok", text)


@pytest.mark.parametrize(
    "name, status",
    [
        ("401.output-format-json.jsonl", "auth_required"),
        ("404.output-format-json.jsonl", "model_not_found"),
        ("429.output-format-json.jsonl", "rate_limited"),
        ("conn-refused.output-format-json.jsonl", "network"),
        ("drop.output-format-json.jsonl", "network"),
    ],
)
def test_errors_classified_from_session_error(name: str, status: str) -> None:
    parsed = copilot.parse(out(name, exit_code=1))
    assert parsed.status == status
    assert parsed.error
    assert parsed.session_id


def test_rate_limit_reset_time_read_from_message() -> None:
    assert copilot.parse(out("429.output-format-json.jsonl", 1)).retry_after_s == 1.0


@pytest.mark.parametrize(
    "name, status",
    [
        ("no-auth.stderr.txt", "auth_required"),
        ("classic-pat.stderr.txt", "auth_required"),
        ("github-token-no-network.stderr.txt", "network"),
        ("429.text-mode.stderr.txt", "rate_limited"),
    ],
)
def test_stderr_failures_classified(name: str, status: str) -> None:
    parsed = copilot.parse(err(name))
    assert parsed.status == status
    assert parsed.error


@pytest.mark.parametrize(
    "data, status",
    [
        ({"errorType": "rate_limit", "message": "something odd happened"}, "rate_limited"),
        ({"errorType": "authentication", "message": "odd"}, "auth_required"),
        ({"errorType": "query", "statusCode": 404, "message": "odd"}, "model_not_found"),
        ({"errorType": "query", "statusCode": 503, "message": "odd"}, "server_error"),
        ({"errorType": "query", "message": "Could not connect to local model provider"}, "network"),
        ({"errorType": "query", "message": "odd"}, "crashed"),
    ],
)
def test_error_type_and_status_code_beat_text(data: dict, status: str) -> None:
    parsed = copilot.parse(session_error(**data))
    assert (parsed.status, parsed.session_id) == (status, "s-1")


def test_answer_whitespace_kept_exactly() -> None:
    text = "  two\n\nparagraphs  \n"
    run = events(
        {"type": "assistant.message", "data": {"content": text, "model": "m"}},
        {"type": "result", "sessionId": "s-2", "exitCode": 0},
    )
    assert copilot.parse(run).text == text


@pytest.mark.parametrize(
    "run, status",
    [
        (RunOutput(stdout="\x1b[31mgarbage\x1b[0m", exit_code=0), "bad_output"),
        (RunOutput(stdout="", exit_code=0), "empty_output"),
        (
            events({"type": "assistant.message", "data": {"content": "", "toolRequests": [{}]}}),
            "bad_output",
        ),
    ],
)
def test_no_answer(run: RunOutput, status: str) -> None:
    assert copilot.parse(run).status == status


def test_login_nag_with_exit_zero_is_auth_required_that_says_log_in() -> None:
    parsed = copilot.parse(err("no-auth.stderr.txt", exit_code=0))
    assert parsed.status == "auth_required"
    assert "copilot login" in (parsed.error or "")


def test_pipeline_with_fake_copilot(fake_clis) -> None:  # type: ignore[no-untyped-def]
    fake_clis.set(
        "copilot",
        fixture="copilot/ok.stdin.output-format-json.jsonl",
        version="GitHub Copilot CLI 1.0.102.\nRun 'copilot update' to check for updates.",
    )
    env = fake_clis.env(GH_TOKEN="g", OPENAI_API_KEY="o", ANTHROPIC_API_KEY="a")
    [resp] = multi_model.dispatch(["copilot:gpt-5.4"], "say hi\n", settings=Settings(), env=env)
    assert (resp.status, resp.text) == ("ok", "MOCK_OK: hello from the mock model")
    assert resp.cli_version == "1.0.102"
    assert resp.session_id == "f21ca8af-bf82-429d-9bfb-163d7dc25e12"
    [call] = [c for c in fake_clis.calls("copilot") if c["argv"][:1] != ["--version"]]
    assert call["argv"] == [
        "--output-format",
        "json",
        "--no-auto-update",
        "--no-ask-user",
        "--model=gpt-5.4",
        "--deny-tool=write",
        "--deny-tool=shell",
    ]
    assert call["stdin"] == "say hi\n"
    assert call["env"]["GH_TOKEN"] == "g"
    assert not {"OPENAI_API_KEY", "ANTHROPIC_API_KEY"} & set(call["env"])
