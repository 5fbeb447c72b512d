"""claude adapter: argv/stdin/env built right, recorded outputs parsed and classified."""

from __future__ import annotations

import json

import pytest

import multi_model
from multi_model.config import ProviderSettings, Settings
from multi_model.models import Request, RunOutput
from multi_model.providers import builtin
from multi_model.providers.claude import claude_model_id
from tests.providers.samples import reader

claude = builtin("claude")


out = reader("claude")


def result(exit_code: int = 1, **fields: object) -> RunOutput:
    return RunOutput(stdout=json.dumps({"type": "result", **fields}) + "\n", exit_code=exit_code)


def test_build_reads_prompt_from_stdin_with_read_only_tools() -> None:
    inv = claude.build(
        Request(prompt="hi\n  there  ", model="claude-sonnet-4-5"), {"PATH": "/x"}, "/bin/claude"
    )
    assert inv.argv == (
        "/bin/claude",
        "-p",
        "--output-format",
        "json",
        "--model=claude-sonnet-4-5",
        "--tools",
        "Read,Glob,Grep",
        "--permission-mode",
        "default",
    )
    assert inv.stdin == "hi\n  there  "
    assert inv.env == {"PATH": "/x"}


def test_no_model_means_cli_default() -> None:
    argv = claude.build(Request(prompt="p"), {}, "claude").argv
    assert not any(a.startswith("--model") for a in argv)


def test_writes_only_when_allowed() -> None:
    argv = claude.build(Request(prompt="p", allow_writes=True), {}, "claude").argv
    assert argv[argv.index("--tools") + 1] == "Read,Glob,Grep,Edit,Write"
    assert argv[argv.index("--permission-mode") + 1] == "acceptEdits"


@pytest.mark.parametrize(
    "model, expected",
    [
        ("claude-opus-4.8", "claude-opus-4-8"),
        ("anthropic/claude-sonnet-4.5", "claude-sonnet-4-5"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5-20250929"),
        ("opus", "opus"),
    ],
)
def test_model_ids_normalised(model: str, expected: str) -> None:
    assert claude_model_id(model) == expected
    argv = claude.build(Request(prompt="p", model=model), {}, "claude").argv
    assert f"--model={expected}" in argv


def test_env_keeps_anthropic_vars_and_drops_other_vendors() -> None:
    parent = {
        "PATH": "/x",
        "ANTHROPIC_API_KEY": "a",
        "ANTHROPIC_BASE_URL": "http://h",
        "CLAUDE_CONFIG_DIR": "/c",
        "CLAUDE_CODE_MAX_RETRIES": "0",
        "OPENAI_API_KEY": "o",
        "GEMINI_API_KEY": "g",
        "GH_TOKEN": "t",
    }
    assert claude.env_for(parent) == {
        k: parent[k]
        for k in (
            "PATH",
            "ANTHROPIC_API_KEY",
            "ANTHROPIC_BASE_URL",
            "CLAUDE_CONFIG_DIR",
            "CLAUDE_CODE_MAX_RETRIES",
        )
    }


# Written out, not taken from the adapter's constant, so a marker it forgets fails here.
CLAUDE_CODE_SESSION_MARKERS = (
    "CLAUDECODE",
    "CLAUDE_CODE_ENTRYPOINT",
    "CLAUDE_CODE_SESSION_ID",
    "CLAUDE_CODE_CHILD_SESSION",
    "CLAUDE_CODE_EXECPATH",
    "CLAUDE_CODE_SSE_PORT",
    "CLAUDE_AGENT_SDK_VERSION",
    "CLAUDE_PLUGIN_ROOT",
    "CLAUDE_PLUGIN_DATA",
    "CLAUDE_PROJECT_DIR",
    "CLAUDE_ENV_FILE",
    "CLAUDE_CODE_SOME_FUTURE_MARKER",
)


def test_session_vars_never_reach_the_child_even_when_passed_through() -> None:
    parent = {
        "PATH": "/x",
        "CLAUDE_CODE_EFFORT_LEVEL": "high",
        **dict.fromkeys(CLAUDE_CODE_SESSION_MARKERS, "1"),
    }
    env = claude.env_for(parent, extra_allow=("CLAUDE*",))
    assert env == {"PATH": "/x", "CLAUDE_CODE_EFFORT_LEVEL": "high"}
    exact = claude.env_for(parent, extra_allow=CLAUDE_CODE_SESSION_MARKERS)
    leaked = claude.build(Request(prompt="p"), exact, "claude").env
    assert not set(CLAUDE_CODE_SESSION_MARKERS) & set(leaked)


def test_parse_ok_keeps_text_usage_session_and_model() -> None:
    parsed = claude.parse(out("ok.json"))
    assert parsed.status == "ok"
    assert parsed.text == "MOCK_OK: hello from the mock model"
    assert parsed.session_id == "fabf8799-880b-44b3-acce-7b5e05f5a3b6"
    assert parsed.model_reported == "claude-sonnet-4-5"
    assert parsed.usage is not None
    assert (
        parsed.usage.input_tokens,
        parsed.usage.cached_input_tokens,
        parsed.usage.output_tokens,
        parsed.usage.cost_usd,
    ) == (15, 4, 7, 0.0001392)
    # 15 input tokens: 11 fresh + 4 cached


@pytest.mark.parametrize(
    "name, status",
    [
        ("401.json", "auth_required"),
        ("403.json", "auth_required"),
        ("404.json", "model_not_found"),
        ("413-too-large.json", "oversize"),
        ("429.json", "rate_limited"),
        ("500.json", "server_error"),
        ("529-overloaded.json", "server_error"),
        ("conn-refused.json", "network"),
        ("not-logged-in.json", "auth_required"),
    ],
)
def test_errors_classified_from_result(name: str, status: str) -> None:
    parsed = claude.parse(out(name, exit_code=1))
    assert parsed.status == status
    assert parsed.error
    assert parsed.session_id


def test_login_nag_with_exit_zero_is_auth_required_that_says_log_in() -> None:
    parsed = claude.parse(out("not-logged-in.json", exit_code=0))
    assert parsed.status == "auth_required"
    assert "Not logged in" in (parsed.error or "") and "claude auth login" in (parsed.error or "")


def test_short_answer_mentioning_login_is_still_an_answer() -> None:
    parsed = claude.parse(
        result(
            0, subtype="success", is_error=False, result="Not sure; run /login first, then retry."
        )
    )
    assert (parsed.status, parsed.text) == ("ok", "Not sure; run /login first, then retry.")


@pytest.mark.parametrize(
    "code, status",
    [
        (429, "rate_limited"),
        (404, "model_not_found"),
        (401, "auth_required"),
        (503, "server_error"),
    ],
)
def test_api_error_status_wins_over_text(code: int, status: str) -> None:
    parsed = claude.parse(
        result(
            subtype="success",
            is_error=True,
            api_error_status=code,
            result="API Error: something unexpected",
        )
    )
    assert parsed.status == status


def test_error_subtype_without_result_text() -> None:
    parsed = claude.parse(result(subtype="error_max_turns", is_error=True, session_id="s1"))
    assert (parsed.status, parsed.session_id) == ("crashed", "s1")
    assert "error_max_turns" in (parsed.error or "")


def test_error_list_used_when_result_text_is_missing() -> None:
    parsed = claude.parse(
        result(
            subtype="error_during_execution",
            is_error=True,
            errors=["API Error: 429 Too Many Requests"],
        )
    )
    assert parsed.status == "rate_limited"
    assert parsed.error == "API Error: 429 Too Many Requests"


def test_model_reported_is_the_model_with_most_output() -> None:
    parsed = claude.parse(
        result(
            0,
            subtype="success",
            is_error=False,
            result="x",
            modelUsage={
                "claude-haiku-4-5": {"outputTokens": 3},
                "claude-opus-4-8": {"outputTokens": 90},
            },
        )
    )
    assert parsed.model_reported == "claude-opus-4-8"


def test_answer_whitespace_kept_exactly() -> None:
    text = "  two\n\nparagraphs  \n"
    assert claude.parse(result(0, subtype="success", is_error=False, result=text)).text == text


def test_nonzero_exit_without_json_uses_stderr() -> None:
    parsed = claude.parse(
        RunOutput(
            stderr="Error: Input must be provided either through stdin "
            "or as a prompt argument when using --print",
            exit_code=1,
        )
    )
    assert parsed.status == "crashed"
    assert "Input must be provided" in (parsed.error or "")


@pytest.mark.parametrize(
    "run, status",
    [
        (RunOutput(stdout="\x1b[31mgarbage\x1b[0m", exit_code=0), "bad_output"),
        (RunOutput(stdout="", exit_code=0), "empty_output"),
    ],
)
def test_no_result_object(run: RunOutput, status: str) -> None:
    assert claude.parse(run).status == status


def test_login_nag_on_stderr_with_exit_zero() -> None:
    parsed = claude.parse(RunOutput(stderr="Invalid API key · Please run /login", exit_code=0))
    assert parsed.status == "auth_required"
    assert "log in" in (parsed.error or "")


@pytest.mark.parametrize(
    "name, exit_code, state",
    [
        ("auth-status-logged-out.json", 1, "logged_out"),
        ("auth-status-api-key.json", 0, "logged_in"),
    ],
)
def test_auth_probe_reads_logged_in(name: str, exit_code: int, state: str) -> None:
    assert claude.auth.probe == ("auth", "status", "--json")
    assert claude.parse_auth(out(name, exit_code)) == state


def test_auth_probe_timeout_is_unknown() -> None:
    assert claude.parse_auth(RunOutput(timed_out=True, exit_code=-15)) == "unknown"


def test_pipeline_with_fake_claude(fake_clis) -> None:  # type: ignore[no-untyped-def]
    fake_clis.set("claude", fixture="claude/ok.json", version="2.1.197 (Claude Code)")
    env = fake_clis.env(
        ANTHROPIC_API_KEY="a",
        OPENAI_API_KEY="o",
        CLAUDECODE="1",
        CLAUDE_CODE_ENTRYPOINT="cli",
        CLAUDE_CONFIG_DIR="/cfg",
    )
    settings = Settings(providers={"claude": ProviderSettings(env=["CLAUDE*"])})
    [resp] = multi_model.dispatch(
        ["claude:claude-sonnet-4.5"], "say hi\n", settings=settings, env=env, allow_claude_cli=True
    )
    assert (resp.status, resp.text) == ("ok", "MOCK_OK: hello from the mock model")
    assert resp.cli_version == "2.1.197"
    assert resp.model_reported == "claude-sonnet-4-5"
    [call] = [c for c in fake_clis.calls("claude") if c["argv"][:1] != ["--version"]]
    assert call["argv"] == [
        "-p",
        "--output-format",
        "json",
        "--model=claude-sonnet-4-5",
        "--tools",
        "Read,Glob,Grep",
        "--permission-mode",
        "default",
    ]
    assert call["stdin"] == "say hi\n"
    assert call["env"]["ANTHROPIC_API_KEY"] == "a" and call["env"]["CLAUDE_CONFIG_DIR"] == "/cfg"
    assert not {"OPENAI_API_KEY", "CLAUDECODE", "CLAUDE_CODE_ENTRYPOINT"} & set(call["env"])
