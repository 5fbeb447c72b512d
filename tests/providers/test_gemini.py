"""gemini adapter: argv/stdin/env built right, recorded outputs parsed and classified."""

from __future__ import annotations

import json

import pytest

import multi_model
from multi_model.config import Settings
from multi_model.models import Request, RunOutput
from multi_model.providers import builtin
from tests.conftest import fixture_text
from tests.providers.samples import reader

gemini = builtin("gemini")
OK_TEXT = "MOCK_OK: hello from the mock model"


out = reader("gemini")


def test_build_reads_prompt_from_stdin_read_only() -> None:
    inv = gemini.build(
        Request(prompt="hi\n  there  ", model="gemini-2.5-pro"),
        {"PATH": "/x", "GEMINI_API_KEY": "k"},
        "/bin/gemini",
    )
    assert inv.argv == (
        "/bin/gemini",
        "-p",
        "",
        "-o",
        "json",
        "--approval-mode",
        "default",
        "--model=gemini-2.5-pro",
    )
    assert inv.stdin == "hi\n  there  "
    assert dict(inv.env) == {
        "PATH": "/x",
        "GEMINI_API_KEY": "k",
        "GEMINI_CLI_TRUST_WORKSPACE": "true",
    }


def test_no_model_means_cli_default_and_never_sandbox_or_yolo() -> None:
    argv = gemini.build(Request(prompt="p"), {}, "gemini").argv
    assert not any(a.startswith(("-m", "--model")) for a in argv)
    assert not {"--sandbox", "-s", "--yolo", "-y", "yolo"} & set(argv)


def test_writes_only_when_allowed() -> None:
    inv = gemini.build(Request(prompt="p", allow_writes=True), {}, "gemini")
    assert inv.argv[inv.argv.index("--approval-mode") + 1] == "auto_edit"


def test_extra_args_follow_the_built_flags() -> None:
    inv = gemini.build(Request(prompt="p", extra_args=("--include-directories", "d")), {}, "g")
    assert inv.argv[-2:] == ("--include-directories", "d")


def test_env_allow_keeps_google_vars_and_drops_other_vendors() -> None:
    env = gemini.env_for(
        {
            "GOOGLE_API_KEY": "g",
            "GEMINI_API_KEY": "k",
            "OPENAI_API_KEY": "o",
            "ANTHROPIC_API_KEY": "a",
            "GOOGLE_CLOUD_PROJECT": "p",
        }
    )
    assert env == {"GOOGLE_API_KEY": "g", "GEMINI_API_KEY": "k", "GOOGLE_CLOUD_PROJECT": "p"}


def test_parse_ok_keeps_text_usage_session_and_model() -> None:
    parsed = gemini.parse(out("ok.json"))
    assert (parsed.status, parsed.text) == ("ok", OK_TEXT)
    assert parsed.session_id == "1146b4dc-f996-4fb6-b7ad-e2c28ba7976b"
    assert parsed.model_reported == "gemini-2.5-pro"
    assert parsed.usage and (
        parsed.usage.input_tokens,
        parsed.usage.output_tokens,
        parsed.usage.total_tokens,
    ) == (11, 3, 14)


def test_parse_auto_router_reports_main_model_and_summed_usage() -> None:
    parsed = gemini.parse(out("ok.auto-router.json"))
    assert parsed.text == OK_TEXT
    assert parsed.model_reported == "gemini-3.8-flash"
    assert parsed.usage and (
        parsed.usage.input_tokens,
        parsed.usage.output_tokens,
        parsed.usage.total_tokens,
    ) == (16, 5, 21)


@pytest.mark.parametrize(
    "roles, expected",
    [
        ({"big": "utility_router", "small": "main"}, "small"),
        ({}, "big"),
    ],
)
def test_model_reported_is_main_role_else_most_candidates(
    roles: dict[str, str], expected: str
) -> None:
    models = {
        name: {"tokens": {"candidates": n}, "roles": {roles[name]: {}} if name in roles else {}}
        for name, n in (("big", 50), ("small", 3))
    }
    stdout = json.dumps({"session_id": "s", "response": "a", "stats": {"models": models}})
    assert gemini.parse(RunOutput(stdout=stdout, exit_code=0)).model_reported == expected


def test_answer_whitespace_is_kept_exactly() -> None:
    stdout = '{"session_id": "s", "response": "  two\\n\\nparas  \\n"}'
    assert gemini.parse(RunOutput(stdout=stdout, exit_code=0)).text == "  two\n\nparas  \n"


@pytest.mark.parametrize(
    "name, exit_code, status",
    [
        ("400-api-key-invalid.json-mode.stderr.txt", 144, "auth_required"),
        ("401.json-mode.stderr.txt", 145, "auth_required"),
        ("404.json-mode.stderr.txt", 1, "model_not_found"),
        ("429.json-mode.stderr.txt", 173, "rate_limited"),
        ("500.json-mode.stderr.txt", 244, "server_error"),
        ("conn-refused.json-mode.stderr.txt", 1, "network"),
        ("no-auth.json-mode.stderr.txt", 41, "auth_required"),
        ("no-auth.json-mode.real.stderr.txt", 41, "auth_required"),
        ("oauth-non-interactive.exit41.stderr.txt", 41, "auth_required"),
    ],
)
def test_errors_classified_from_stderr_json(name: str, exit_code: int, status: str) -> None:
    parsed = gemini.parse(out(name, exit_code))
    assert parsed.status == status
    assert parsed.error and "\x1b[" not in parsed.error
    assert parsed.text == ""


def test_error_json_is_the_last_object_not_a_stack_trace_brace() -> None:
    parsed = gemini.parse(out("404.json-mode.stderr.txt", 1))
    assert parsed.error == (
        "models/gemini-2.5-pro is not found for API version v1beta, "
        "or is not supported for generateContent."
    )
    assert parsed.session_id == "aa2a396b-e9d4-4230-9af0-2d6bf0855fab"


def test_exit_41_without_a_recognised_message_is_auth_required() -> None:
    parsed = gemini.parse(RunOutput(stderr="something new went wrong", exit_code=41))
    assert parsed.status == "auth_required"


def test_untrusted_folder_is_crashed_with_the_message() -> None:
    text = "Gemini CLI is not running in a trusted directory. To proceed, either use --skip-trust"
    parsed = gemini.parse(RunOutput(stderr=text, exit_code=55))
    assert parsed.status == "crashed" and "trusted directory" in (parsed.error or "")


def test_truncated_stdin_is_oversize_even_with_an_answer() -> None:
    stderr = "Warning: stdin input truncated to 8388608 bytes.\n"
    parsed = gemini.parse(
        RunOutput(stdout=fixture_text("gemini", "ok.json"), stderr=stderr, exit_code=0)
    )
    assert parsed.status == "oversize"


@pytest.mark.parametrize(
    "stdout, status",
    [
        ("\x1b[31mgarbage\x1b[0m", "bad_output"),
        ('{"session_id": "s", "stats": {}}', "bad_output"),
        ("", "empty_output"),
    ],
)
def test_exit_0_without_response(stdout: str, status: str) -> None:
    assert gemini.parse(RunOutput(stdout=stdout, exit_code=0)).status == status


def test_pipeline_with_fake_gemini(fake_clis) -> None:  # type: ignore[no-untyped-def]
    fake_clis.set("gemini", fixture="gemini/ok.json", version="0.61.0")
    env = fake_clis.env(GEMINI_API_KEY="g", OPENAI_API_KEY="o", ANTHROPIC_API_KEY="a")
    [resp] = multi_model.dispatch(
        ["gemini:gemini-2.5-pro"], "say hi\n", settings=Settings(), env=env
    )
    assert (resp.status, resp.text) == ("ok", OK_TEXT)
    assert resp.cli_version == "0.61.0"
    assert resp.model_reported == "gemini-2.5-pro"
    [call] = [c for c in fake_clis.calls("gemini") if c["argv"][:1] != ["--version"]]
    assert call["argv"] == [
        "-p",
        "",
        "-o",
        "json",
        "--approval-mode",
        "default",
        "--model=gemini-2.5-pro",
    ]
    assert call["stdin"] == "say hi\n"
    assert call["env"]["GEMINI_API_KEY"] == "g"
    assert call["env"]["GEMINI_CLI_TRUST_WORKSPACE"] == "true"
    assert not {"OPENAI_API_KEY", "ANTHROPIC_API_KEY"} & set(call["env"])


def test_pipeline_error_on_stderr(fake_clis) -> None:  # type: ignore[no-untyped-def]
    fake_clis.set("gemini", fixture="gemini/429.json-mode.stderr.txt", exit=173)
    [resp] = multi_model.dispatch(
        ["gemini:gemini-2.5-pro"], "p", settings=Settings(), env=fake_clis.env(GEMINI_API_KEY="g")
    )
    assert (resp.status, resp.exit_code) == ("rate_limited", 173)
    assert resp.session_id == "2b4b3496-ed2d-478c-a70e-e42072cf0090"


def test_login_nag_with_exit_0_is_auth_required_with_a_login_hint() -> None:
    nag = RunOutput(
        stdout="",
        exit_code=0,
        stderr="Please set an Auth method in your settings.json before running.\n",
    )
    parsed = gemini.parse(nag)
    assert parsed.status == "auth_required"
    assert "GEMINI_API_KEY" in (parsed.error or "")
