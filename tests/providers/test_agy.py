"""agy adapter: argv built right (prompt last, as the --print value), plain-text output read
and classified. Fixtures are written from docs (tests/fixtures/agy/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

import multi_model
from multi_model.config import Settings
from multi_model.detect import quick_auth
from multi_model.models import Request, RunOutput
from multi_model.providers import builtin
from multi_model.providers.agy import READ_ONLY_DIRECTIVE, WRITE_DIRECTIVE
from tests.providers.samples import reader

agy = builtin("agy")
OK_TEXT = "MOCK_OK: hello from the mock model\n"


out = reader("agy")


def test_build_puts_prompt_last_as_print_value_read_only() -> None:
    inv = agy.build(
        Request(prompt="hi\n  there  ", model="gemini-3.7-flash-high", timeout=90.2),
        {"PATH": "/x"},
        "/bin/agy",
    )
    assert inv.argv == (
        "/bin/agy",
        "--print-timeout",
        "96s",
        "--model=gemini-3.7-flash-high",
        "--mode",
        "plan",
        "--print",
        f"{READ_ONLY_DIRECTIVE}\n\nhi\n  there  ",
    )
    assert inv.stdin is None
    assert dict(inv.env) == {"PATH": "/x"}


def test_no_model_means_cli_default_and_never_skips_permissions() -> None:
    argv = agy.build(Request(prompt="p", timeout=300), {}, "agy").argv
    assert not any(a.startswith("--model") for a in argv)
    assert argv[1:3] == ("--print-timeout", "305s")
    assert "--dangerously-skip-permissions" not in argv


def test_writes_only_when_allowed() -> None:
    inv = agy.build(Request(prompt="p", allow_writes=True), {}, "agy")
    assert inv.argv[inv.argv.index("--mode") + 1] == "accept-edits"
    assert inv.argv[-1] == f"{WRITE_DIRECTIVE}\n\np"


def test_extra_args_stay_before_print() -> None:
    argv = agy.build(Request(prompt="p", extra_args=("--add-dir", "/d")), {}, "agy").argv
    assert argv[-4:-2] == ("--add-dir", "/d") and argv[-2] == "--print"


def test_env_allow_keeps_agy_vars_and_drops_other_vendors() -> None:
    env = agy.env_for(
        {
            "AGY_AUTH_TOKEN": "t",
            "ANTIGRAVITY_API_KEY": "k",
            "GEMINI_API_KEY": "g",
            "OPENAI_API_KEY": "o",
            "DBUS_SESSION_BUS_ADDRESS": "unix:path=/b",
        }
    )
    assert env == {
        "AGY_AUTH_TOKEN": "t",
        "ANTIGRAVITY_API_KEY": "k",
        "DBUS_SESSION_BUS_ADDRESS": "unix:path=/b",
    }


def test_parse_ok_keeps_stdout_exactly() -> None:
    parsed = agy.parse(out("ok.print.from-docs.txt"))
    assert (parsed.status, parsed.text) == ("ok", OK_TEXT)
    assert agy.parse(RunOutput(stdout="  a\n\nb  \n", exit_code=0)).text == "  a\n\nb  \n"


def test_quota_printed_with_exit_0_is_rate_limited() -> None:
    parsed = agy.parse(out("quota.exit0.print.from-docs.txt"))
    assert parsed.status == "rate_limited"
    assert parsed.text == ""
    assert "Individual quota reached" in (parsed.error or "")


def test_quota_reset_time_is_parsed() -> None:
    parsed = agy.parse(out("quota.exit0.print.from-docs.txt"))
    assert parsed.retry_after_s == 156 * 3600 + 13 * 60


def test_quota_with_nonzero_exit_is_rate_limited() -> None:
    assert agy.parse(out("quota.exit0.print.from-docs.txt", exit_code=1)).status == "rate_limited"


def test_login_nag_with_exit_0_is_auth_required_that_says_sign_in() -> None:
    parsed = agy.parse(out("not-logged-in.exit0.print.from-docs.stderr.txt"))
    assert parsed.status == "auth_required"
    assert "sign" in (parsed.error or "") and "agy" in (parsed.error or "")


def test_login_failure_with_nonzero_exit_is_auth_required() -> None:
    parsed = agy.parse(out("not-logged-in.exit0.print.from-docs.stderr.txt", exit_code=1))
    assert parsed.status == "auth_required"


def test_agent_error_line_is_crashed_not_an_answer() -> None:
    parsed = agy.parse(out("agent-error.print.from-docs.txt"))
    assert parsed.status == "crashed" and parsed.text == ""


def test_no_tty_crash_explains_itself() -> None:
    parsed = agy.parse(out("no-tty.print.from-docs.stderr.txt", exit_code=1))
    assert parsed.status == "crashed"
    assert "interactive terminal" in (parsed.error or "")


def test_answer_that_merely_mentions_an_error_is_an_answer() -> None:
    text = "The log says `Error: Individual quota reached`, which means ...\n" * 12
    assert agy.parse(RunOutput(stdout=text, exit_code=0)).status == "ok"


def test_silent_exit_0_is_empty_output() -> None:
    assert agy.parse(RunOutput(stdout="", exit_code=0)).status == "empty_output"


@pytest.mark.parametrize(
    "name, ids",
    [
        (
            "models.tsv.from-docs.txt",
            [
                "gemini-3.7-flash-high",
                "gemini-3.7-flash-medium",
                "gemini-3.1-pro-high",
                "claude-sonnet-4-6",
            ],
        ),
        (
            "models.bare.from-docs.txt",
            ["gemini-3.6-flash-high", "gemini-3.6-flash-low", "gpt-oss-120b-medium"],
        ),
    ],
)
def test_parse_models(name: str, ids: list[str]) -> None:
    assert agy.models_probe == ("models",)
    assert agy.parse_models(out(name)) == ids


def test_pipeline_with_fake_agy(fake_clis) -> None:  # type: ignore[no-untyped-def]
    fake_clis.set("agy", fixture="agy/ok.print.from-docs.txt", version="1.1.13")
    env = fake_clis.env(AGY_AUTH_TOKEN="t", GEMINI_API_KEY="g", OPENAI_API_KEY="o")
    [resp] = multi_model.dispatch(
        ["agy:gemini-3.7-flash-high"], "say hi\n", settings=Settings(), env=env, timeout=42
    )
    assert (resp.status, resp.text) == ("ok", OK_TEXT)
    assert resp.cli_version == "1.1.13"
    [call] = [c for c in fake_clis.calls("agy") if c["argv"][:1] != ["--version"]]
    assert call["argv"] == [
        "--print-timeout",
        "47s",
        "--model=gemini-3.7-flash-high",
        "--mode",
        "plan",
        "--print",
        f"{READ_ONLY_DIRECTIVE}\n\nsay hi\n",
    ]
    assert call["stdin"] == ""
    assert call["env"]["AGY_AUTH_TOKEN"] == "t"
    assert not {"GEMINI_API_KEY", "OPENAI_API_KEY"} & set(call["env"])


def test_pipeline_quota_exit_0(fake_clis) -> None:  # type: ignore[no-untyped-def]
    fake_clis.set("agy", fixture="agy/quota.exit0.print.from-docs.txt")
    [resp] = multi_model.dispatch(["agy"], "p", settings=Settings(), env=fake_clis.env())
    assert (resp.status, resp.exit_code, resp.text) == ("rate_limited", 0, "")


def test_keyring_login_is_unknown_to_detection_not_logged_out(tmp_path: Path) -> None:
    assert quick_auth(agy, {"HOME": str(tmp_path)}) == "unknown"
