"""vibe adapter: prompt file, model env, ask agent; recorded 3.0.2 outputs parsed and classified."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

import multi_model
from multi_model.config import Settings
from multi_model.models import PROMPT_FILE, Request, RunOutput
from multi_model.providers import builtin
from tests.conftest import FAKECLI, FakeCLIs
from tests.providers.samples import reader

vibe = builtin("vibe")
OK = "MOCK_OK: hello from the mock model"


out = reader("vibe")


def test_build_passes_prompt_as_file_with_ask_agent() -> None:
    inv = vibe.build(Request(prompt="hi\n  there  "), {"PATH": "/x"}, "/bin/vibe")
    assert inv.argv == (
        "/bin/vibe",
        "--prompt-file",
        PROMPT_FILE,
        "--output",
        "json",
        "--agent",
        "ask",
    )
    assert inv.prompt_file == "hi\n  there  "
    assert inv.stdin is None
    assert dict(inv.env) == {"PATH": "/x"}


def test_model_goes_in_env_and_extra_args_at_the_end() -> None:
    inv = vibe.build(
        Request(prompt="p", model="devstral-2", extra_args=("--trust",)), {"PATH": "/x"}, "vibe"
    )
    assert inv.env == {"PATH": "/x", "VIBE_ACTIVE_MODEL": "devstral-2"}
    assert inv.argv[-3:] == ("--agent", "ask", "--trust")


def test_writes_allowed_use_accept_edits_agent() -> None:
    inv = vibe.build(Request(prompt="p", allow_writes=True), {}, "vibe")
    assert inv.argv[inv.argv.index("--agent") + 1] == "accept-edits"


@pytest.mark.parametrize(
    "name, session",
    [
        ("ok.output-json.json", "7d0237cb-a26e-7189-33c0-70cf24a0e310"),
        ("ok.output-streaming.jsonl", "315ecf91-ad57-ea70-b2f2-0fe235fdd0cb"),
    ],
)
def test_parse_ok(name: str, session: str) -> None:
    parsed = vibe.parse(out(name))
    assert (parsed.status, parsed.text, parsed.session_id) == ("ok", OK, session)


def test_answer_is_the_last_assistant_message() -> None:
    assert (
        vibe.parse(out("tool-write.default.output-streaming.jsonl")).text
        == "MOCK_DONE: tool step finished"
    )


def test_text_parts_are_joined_exactly() -> None:
    entry = {
        "type": "message",
        "role": "assistant",
        "sessionId": "s",
        "content": [
            {"type": "text", "text": "  a\n"},
            {"type": "image", "url": "x"},
            {"type": "text", "text": "b  "},
        ],
    }
    parsed = vibe.parse(RunOutput(stdout=json.dumps([entry], indent=2), exit_code=0))
    assert parsed.text == "  a\nb  "


@pytest.mark.parametrize(
    "name, exit_code, status",
    [
        ("401.stderr.txt", 1, "auth_required"),
        ("404.stderr.txt", 2, "model_not_found"),
        ("429.stderr.txt", 2, "rate_limited"),
        ("500.stderr.txt", 2, "server_error"),
        ("conn-refused.stderr.txt", 2, "network"),
        ("dns-fail.stderr.txt", 2, "network"),
        ("no-key.stderr.txt", 1, "auth_required"),
    ],
)
def test_errors_classified_from_stderr(name: str, exit_code: int, status: str) -> None:
    parsed = vibe.parse(out(name, exit_code))
    assert parsed.status == status
    assert (parsed.error or "").startswith("Error: ")


def test_keyring_notice_is_not_part_of_the_error() -> None:
    parsed = vibe.parse(out("no-key.stderr.txt", 1))
    assert parsed.status == "auth_required" and parsed.error
    assert "keyring" not in parsed.error


def test_status_in_http_error_wins_over_message_text() -> None:
    stderr = (
        "Error: Client error '404 Not Found' for url 'http://h/v1/chat/completions'\n"
        "For more information check: https://x/404: quota exceeded\n"
    )
    assert vibe.parse(RunOutput(stderr=stderr, exit_code=2)).status == "model_not_found"


def test_rate_limit_reset_time() -> None:
    assert vibe.parse(out("429.stderr.txt", 2)).retry_after_s == 1.0


@pytest.mark.parametrize(
    "stdout, status",
    [
        ("\x1b[31mgarbage\x1b[0m", "bad_output"),
        ("", "empty_output"),
        ("[]", "empty_output"),
    ],
)
def test_exit_zero_without_answer(stdout: str, status: str) -> None:
    assert vibe.parse(RunOutput(stdout=stdout, exit_code=0)).status == status


def test_nonzero_exit_without_error_line() -> None:
    parsed = vibe.parse(RunOutput(stderr="Traceback ...\nKeyError: 'x'", exit_code=1))
    assert parsed.status == "crashed" and "KeyError" in (parsed.error or "")


def _recording_vibe(bindir: Path) -> None:
    """A fake `vibe` that saves its prompt file's content before acting as fakecli."""
    script = bindir / "vibe"
    script.write_text(
        f"#!{sys.executable}\nimport sys, pathlib\nsys.path.insert(0, {str(FAKECLI.parent)!r})\n"
        "import fakecli\nargs = sys.argv[1:]\n"
        "if '--prompt-file' in args:\n"
        "    src = pathlib.Path(args[args.index('--prompt-file') + 1])\n"
        f"    pathlib.Path({str(bindir / 'vibe-prompt.txt')!r}).write_bytes(src.read_bytes())\n"
        f"sys.exit(fakecli.main('vibe', {str(bindir)!r}, args))\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)


def test_pipeline_with_fake_vibe(fake_clis: FakeCLIs) -> None:
    _recording_vibe(fake_clis.bin)
    fake_clis.set("vibe", fixture="vibe/ok.output-json.json", version="vibe 3.0.2")
    env = fake_clis.env(MISTRAL_API_KEY="m", VIBE_HOME="/vh", OPENAI_API_KEY="o")
    [resp] = multi_model.dispatch(["vibe:devstral-2"], "say hi\n  ", settings=Settings(), env=env)
    assert (resp.status, resp.text, resp.cli_version) == ("ok", OK, "3.0.2")
    assert resp.session_id == "7d0237cb-a26e-7189-33c0-70cf24a0e310"
    [call] = [c for c in fake_clis.calls("vibe") if c["argv"][:1] != ["--version"]]
    assert call["argv"][0] == "--prompt-file" and PROMPT_FILE not in call["argv"][1]
    assert call["argv"][2:] == ["--output", "json", "--agent", "ask"]
    assert (fake_clis.bin / "vibe-prompt.txt").read_text() == "say hi\n  "
    assert not Path(call["argv"][1]).exists()
    assert call["stdin"] == ""
    assert call["env"]["VIBE_ACTIVE_MODEL"] == "devstral-2"
    assert call["env"]["MISTRAL_API_KEY"] == "m" and call["env"]["VIBE_HOME"] == "/vh"
    assert "OPENAI_API_KEY" not in call["env"]


def test_login_nag_with_exit_0_is_auth_required_saying_to_log_in() -> None:
    parsed = vibe.parse(
        RunOutput(stdout="Please login first: no API key configured\n", exit_code=0)
    )
    assert parsed.status == "auth_required"
    assert "MISTRAL_API_KEY" in (parsed.error or "")


def test_pretty_json_without_answer_is_not_read_as_a_nag() -> None:
    entry = {
        "type": "message",
        "role": "user",
        "sessionId": "s",
        "content": [{"type": "text", "text": "why is my request unauthorized?"}],
    }
    parsed = vibe.parse(RunOutput(stdout=json.dumps([entry], indent=2), exit_code=0))
    assert parsed.status == "empty_output"
    assert parsed.error == "no assistant message in vibe output"
