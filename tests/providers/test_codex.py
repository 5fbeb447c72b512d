"""codex adapter: argv/stdin/env built right, recorded outputs parsed and classified."""

from __future__ import annotations

import pytest

from multi_model.models import Request, RunOutput
from multi_model.providers import builtin
from multi_model.providers.codex import split_effort
from tests.providers.samples import reader

codex = builtin("codex")


out = reader("codex")


def test_build_reads_prompt_from_stdin_read_only() -> None:
    inv = codex.build(
        Request(prompt="hi\n  there  ", model="gpt-5.4"), {"PATH": "/x"}, "/bin/codex"
    )
    assert inv.argv == (
        "/bin/codex",
        "exec",
        "--json",
        "--skip-git-repo-check",
        "--sandbox",
        "read-only",
        "--model=gpt-5.4",
        "-",
    )
    assert inv.stdin == "hi\n  there  "


def test_effort_suffix_becomes_reasoning_setting() -> None:
    inv = codex.build(Request(prompt="p", model="gpt-5.4-high"), {}, "codex")
    assert "--model=gpt-5.4" in inv.argv
    assert 'model_reasoning_effort="high"' in inv.argv


@pytest.mark.parametrize(
    "model, expected",
    [
        ("gpt-5.4-high", ("gpt-5.4", "high")),
        ("gpt-5.4-mini", ("gpt-5.4-mini", None)),
        ("o3-xhigh", ("o3", "xhigh")),
        ("gpt-5.3-codex", ("gpt-5.3-codex", None)),
    ],
)
def test_split_effort(model: str, expected: tuple[str, str | None]) -> None:
    assert split_effort(model) == expected


def test_no_model_means_cli_default() -> None:
    argv = codex.build(Request(prompt="p"), {}, "codex").argv
    assert not any(a.startswith("--model") for a in argv)


def test_writes_only_when_allowed() -> None:
    inv = codex.build(Request(prompt="p", allow_writes=True), {}, "codex")
    assert inv.argv[inv.argv.index("--sandbox") + 1] == "workspace-write"


def test_parse_ok_keeps_text_usage_and_thread() -> None:
    parsed = codex.parse(out("ok.exec-json.jsonl"))
    assert parsed.status == "ok"
    assert parsed.text == "MOCK_OK: hello from the mock model"
    assert parsed.session_id == "01a1fc8f-4773-76a0-b75f-891e6550fdef"
    assert parsed.usage and (parsed.usage.input_tokens, parsed.usage.output_tokens) == (11, 3)


def test_parse_takes_answer_after_tool_step() -> None:
    assert codex.parse(out("tool-command.exec-json.jsonl")).text == "MOCK_DONE: tool step finished"


@pytest.mark.parametrize(
    "name, status",
    [
        ("401-with-retries.exec-json.jsonl", "auth_required"),
        ("404-model.exec-json.jsonl", "model_not_found"),
        ("429.exec-json.jsonl", "rate_limited"),
        ("429-insufficient-quota.exec-json.jsonl", "rate_limited"),
        ("500.exec-json.jsonl", "server_error"),
        ("conn-refused.exec-json.jsonl", "network"),
        ("env-key-missing.exec-json.jsonl", "auth_required"),
        ("no-auth-dns-fail.exec-json.jsonl", "network"),
    ],
)
def test_errors_classified_from_terminal_event(name: str, status: str) -> None:
    parsed = codex.parse(out(name, exit_code=1))
    assert parsed.status == status
    assert parsed.error


def test_nonzero_exit_without_events_uses_stderr() -> None:
    parsed = codex.parse(
        RunOutput(
            stderr="Not inside a trusted directory and --skip-git-repo-check was not specified.",
            exit_code=1,
        )
    )
    assert parsed.status == "crashed"
    assert "trusted directory" in (parsed.error or "")


def test_garbage_is_bad_output() -> None:
    out = RunOutput(stdout="\x1b[31mgarbage\x1b[0m", exit_code=0)
    assert codex.parse(out).status == "bad_output"
