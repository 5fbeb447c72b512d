"""qwen adapter: argv/stdin/env built right, recorded outputs parsed and classified."""

from __future__ import annotations

import json

import pytest

import multi_model
from multi_model.config import Settings
from multi_model.models import Request, RunOutput
from multi_model.providers import builtin
from tests.conftest import fixture_text
from tests.fakes.clock import FakeClock
from tests.providers.samples import reader

qwen = builtin("qwen")
OK_TEXT = "MOCK_OK: hello from the mock model"


out = reader("qwen")


def test_build_reads_prompt_from_stdin_read_only() -> None:
    inv = qwen.build(
        Request(prompt="hi\n  there  ", model="qwen3-coder-plus"),
        {"PATH": "/x", "OPENAI_API_KEY": "k"},
        "/bin/qwen",
    )
    assert inv.argv == (
        "/bin/qwen",
        "-o",
        "json",
        "--approval-mode",
        "default",
        "--model=qwen3-coder-plus",
    )
    assert inv.stdin == "hi\n  there  "
    assert dict(inv.env) == {"PATH": "/x", "OPENAI_API_KEY": "k", "NO_BROWSER": "1"}


def test_no_model_no_prompt_flag_and_no_forced_auth_type() -> None:
    argv = qwen.build(Request(prompt="p"), {"OPENAI_API_KEY": "k"}, "qwen").argv
    assert not {"-m", "-p", "--prompt", "--auth-type", "-y", "--yolo"} & set(argv)


def test_writes_only_when_allowed() -> None:
    inv = qwen.build(Request(prompt="p", allow_writes=True), {}, "qwen")
    assert inv.argv[inv.argv.index("--approval-mode") + 1] == "auto-edit"


def test_env_allow_keeps_qwen_and_openai_compatible_vars_only() -> None:
    env = qwen.env_for(
        {
            "OPENAI_API_KEY": "o",
            "OPENAI_BASE_URL": "u",
            "DASHSCOPE_API_KEY": "d",
            "QWEN_OAUTH": "1",
            "ANTHROPIC_API_KEY": "a",
            "GEMINI_API_KEY": "g",
        }
    )
    assert env == {
        "OPENAI_API_KEY": "o",
        "OPENAI_BASE_URL": "u",
        "DASHSCOPE_API_KEY": "d",
        "QWEN_OAUTH": "1",
    }


@pytest.mark.parametrize(
    "name, session, usage",
    [
        ("ok.json", "7b3157c3-cc58-4ea6-8528-6ea1dea5194e", (22, 6, 28)),
        ("ok.v0.15.10.json", "7f38cff0-3646-44ce-bff5-eb975dbcb095", (22, 6, 28)),
    ],
)
def test_parse_ok_keeps_text_usage_session_and_model(
    name: str, session: str, usage: tuple[int, int, int]
) -> None:
    parsed = qwen.parse(out(name))
    assert (parsed.status, parsed.text) == ("ok", OK_TEXT)
    assert parsed.session_id == session
    assert parsed.model_reported == "mock-model"
    assert (
        parsed.usage
        and (parsed.usage.input_tokens, parsed.usage.output_tokens, parsed.usage.total_tokens)
        == usage
    )


def test_answer_whitespace_is_kept_exactly() -> None:
    events = [{"type": "result", "is_error": False, "result": "  a\n\nb  \n", "session_id": "s"}]
    assert qwen.parse(RunOutput(stdout=json.dumps(events), exit_code=0)).text == "  a\n\nb  \n"


@pytest.mark.parametrize(
    "name, exit_code, status",
    [
        ("401.json", 1, "auth_required"),
        ("404.json", 1, "model_not_found"),
        ("429.json", 1, "rate_limited"),
        ("500.json", 1, "server_error"),
        ("dns-fail.json", 1, "network"),
        # the mock closed the socket without a reply, 21 times (3 replays x 7 attempts)
        ("drop.json", 1, "network"),
        ("no-key.json", 1, "auth_required"),
        ("no-auth.json", 1, "auth_required"),
        ("oauth-discontinued.json", 1, "auth_required"),
        # qwen 0.15.10 reports API errors as a successful result with exit 0.
        ("401.exit0.v0.15.10.json", 0, "auth_required"),
        ("404.exit0.v0.15.10.json", 0, "model_not_found"),
        ("429.exit0.v0.15.10.json", 0, "rate_limited"),
        ("conn-refused.exit0.v0.15.10.json", 0, "network"),
    ],
)
def test_errors_classified_from_result_event(name: str, exit_code: int, status: str) -> None:
    parsed = qwen.parse(out(name, exit_code))
    assert parsed.status == status
    assert parsed.error and parsed.text == ""
    assert parsed.session_id


def test_rate_limit_carries_retry_after() -> None:
    assert qwen.parse(out("429.json", 1)).retry_after_s == 1.0


def test_api_error_prefix_with_output_tokens_is_an_answer() -> None:
    events = [
        {
            "type": "result",
            "is_error": False,
            "result": "[API Error: 429] means ...",
            "usage": {"input_tokens": 5, "output_tokens": 9},
            "session_id": "s",
        }
    ]
    parsed = qwen.parse(RunOutput(stdout=json.dumps(events), exit_code=0))
    assert (parsed.status, parsed.text) == ("ok", "[API Error: 429] means ...")


def test_stream_json_lines_are_not_mistaken_for_the_json_array() -> None:
    assert qwen.parse(out("ok.stream-json.jsonl")).status == "bad_output"


def test_nonzero_exit_without_events_uses_stderr() -> None:
    stderr = fixture_text("qwen", "401.stderr.txt")
    parsed = qwen.parse(RunOutput(stderr=stderr, exit_code=1))
    assert parsed.status == "auth_required"


def test_truncated_stdin_is_oversize() -> None:
    parsed = qwen.parse(out("ok.json", stderr="Warning: stdin input truncated to 8388608 bytes."))
    assert parsed.status == "oversize"


@pytest.mark.parametrize(
    "stdout, status",
    [
        ("\x1b[31mgarbage\x1b[0m", "bad_output"),
        ('[{"type": "system", "subtype": "init"}]', "bad_output"),
        ("", "empty_output"),
    ],
)
def test_exit_0_without_result(stdout: str, status: str) -> None:
    assert qwen.parse(RunOutput(stdout=stdout, exit_code=0)).status == status


def test_pipeline_with_fake_qwen(fake_clis) -> None:  # type: ignore[no-untyped-def]
    fake_clis.set("qwen", fixture="qwen/ok.v0.15.10.json", version="0.15.10")
    env = fake_clis.env(
        OPENAI_API_KEY="o",
        OPENAI_BASE_URL="http://127.0.0.1:9/v1",
        ANTHROPIC_API_KEY="a",
        GEMINI_API_KEY="g",
    )
    [resp] = multi_model.dispatch(["qwen:mock-model"], "say hi\n", settings=Settings(), env=env)
    assert (resp.status, resp.text) == ("ok", OK_TEXT)
    assert resp.cli_version == "0.15.10"
    assert resp.model_reported == "mock-model"
    [call] = [c for c in fake_clis.calls("qwen") if c["argv"][:1] != ["--version"]]
    assert call["argv"] == ["-o", "json", "--approval-mode", "default", "--model=mock-model"]
    assert call["stdin"] == "say hi\n"
    assert call["env"]["OPENAI_API_KEY"] == "o" and call["env"]["NO_BROWSER"] == "1"
    assert not {"ANTHROPIC_API_KEY", "GEMINI_API_KEY"} & set(call["env"])


def test_pipeline_exit0_api_error(fake_clis) -> None:  # type: ignore[no-untyped-def]
    fake_clis.set("qwen", fixture="qwen/429.exit0.v0.15.10.json")
    [resp] = multi_model.dispatch(
        ["qwen:mock-model"], "p", settings=Settings(), env=fake_clis.env(), clock=FakeClock()
    )
    assert (resp.status, resp.exit_code, resp.text) == ("rate_limited", 0, "")
    assert resp.retry_after_s == 1.0
