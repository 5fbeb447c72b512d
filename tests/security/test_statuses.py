"""Wrong statuses (issue 14, class 6): hostile or odd CLI output gets the status it means.

Every case runs the whole pipeline against a fake executable (tests/fakes/fakecli.py), so the
adapter, the runner and the fan-out all take part, as in a real call.
"""

from __future__ import annotations

import pytest

import multi_model
from multi_model.config import EndpointSettings, ProviderSettings, Settings
from multi_model.models import HttpReply, Response
from multi_model.providers import CLI_NAMES, builtin
from multi_model.providers.openai_compat import OpenAICompat
from tests.conftest import FakeCLIs

JSON_CLIS = tuple(n for n in CLI_NAMES if n != "agy")  # agy's print mode is plain text
ARGV_PROMPT_CLIS = ("agy", "grok")  # the CLIs that take the prompt as an argv value
DEEP = "[" * 200_000

# Each CLI's own not-logged-in message (tests/fixtures, provider-clis.md §4), printed on stdout.
NAGS: dict[str, str] = {
    "codex": "Not logged in",
    "gemini": "Please set an Auth method in your /home/u/.gemini/settings.json or specify one "
    "of the following environment variables before running: GEMINI_API_KEY, "
    "GOOGLE_GENAI_USE_VERTEXAI, GOOGLE_GENAI_USE_GCA",
    "agy": "You are not logged into Antigravity.",
    "cursor-agent": "Error: Authentication required. Please run 'cursor-agent login' first, or "
    "set CURSOR_API_KEY environment variable.",
    "claude": "Not logged in · Please run /login",
    "qwen": "No auth type is selected. Please configure an auth type (e.g. via settings or "
    "`--auth-type`) before running in non-interactive mode.",
    "opencode": "Not logged in. Please log in: run `opencode auth login`",
    "copilot": "Error: No authentication information found.\n\nTo authenticate, you can use "
    "any of the following methods:\n  • Start 'copilot' and run the '/login' command",
    "grok": "❌ Error: API key required. Set GROK_API_KEY environment variable, use --api-key "
    'flag, or set "apiKey" field in ~/.grok/user-settings.json',
    "vibe": "Error: Missing MISTRAL_API_KEY environment variable for mistral provider",
}


def call(fake_clis: FakeCLIs, name: str, prompt: str = "p", **scenario: object) -> Response:
    fake_clis.set(name, **scenario)
    # grok has no read-only mode: it only runs when writes are allowed
    settings = Settings(providers={"grok": ProviderSettings(allow_writes=True)})
    [resp] = multi_model.dispatch(
        [name], prompt, settings=settings, env=fake_clis.env(), allow_claude_cli=True
    )
    return resp


@pytest.mark.parametrize("name", JSON_CLIS)
@pytest.mark.parametrize(
    "stdout",
    [DEEP, '{"type": "x", "data": ' + DEEP + "\n", '{"type": "x"}\n{"a": ' + DEEP + "\n"],
    ids=["document", "line", "stream"],
)
def test_deeply_nested_json_is_bad_output(fake_clis: FakeCLIs, name: str, stdout: str) -> None:
    resp = call(fake_clis, name, stdout=stdout)
    assert resp.status == "bad_output", resp.error
    assert "internal error" not in (resp.error or "")


def test_deeply_nested_json_in_gemini_stderr_is_not_a_crash(fake_clis: FakeCLIs) -> None:
    resp = call(fake_clis, "gemini", stderr='{"error": ' + DEEP + "\n", exit=1)
    assert "internal error" not in (resp.error or "")


@pytest.mark.parametrize("name", ["ollama", "openai_compat"])
def test_deeply_nested_http_body_is_bad_output(name: str) -> None:
    prov = (
        builtin("ollama")
        if name == "ollama"
        else OpenAICompat("local", EndpointSettings(base_url="http://127.0.0.1:9/v1"))
    )
    parsed = prov.parse_http(HttpReply(status=200, body=DEEP))
    assert parsed.status == "bad_output", parsed.error


@pytest.mark.parametrize("name", CLI_NAMES)
@pytest.mark.parametrize("exit_code", [0, 1])
def test_login_nag_on_stdout_is_auth_required_with_the_cli_hint(
    fake_clis: FakeCLIs, name: str, exit_code: int
) -> None:
    resp = call(fake_clis, name, stdout=NAGS[name] + "\n", exit=exit_code)
    assert resp.status == "auth_required", resp.error
    assert resp.text == ""
    assert builtin(name).login_hint in (resp.error or "")


@pytest.mark.parametrize("name", JSON_CLIS)
@pytest.mark.parametrize(
    "stdout",
    ['{"unexpected": 1}\n', '[{"unexpected": 1}]\n', "[1, 2, 3]\n", '"a string"\n', "42\n"],
    ids=["object", "array-of-objects", "array", "string", "number"],
)
def test_valid_json_of_the_wrong_shape_is_bad_output(
    fake_clis: FakeCLIs, name: str, stdout: str
) -> None:
    resp = call(fake_clis, name, stdout=stdout)
    assert resp.status == "bad_output", resp.error


@pytest.mark.parametrize("name", CLI_NAMES)
def test_nul_byte_in_the_prompt_is_never_a_crash(fake_clis: FakeCLIs, name: str) -> None:
    """The CLIs that take the prompt on argv refuse it with a one-line error before anything
    starts; the others get it on stdin or in a file, where a NUL byte is plain data."""
    resp = call(fake_clis, name, prompt="review this\x00please", stdout=NAGS[name] + "\n")
    started = [c for c in fake_clis.calls(name) if c["argv"][:1] != ["--version"]]
    if name in ARGV_PROMPT_CLIS:
        assert resp.status == "refused", resp.error
        assert "NUL" in (resp.error or "") and "\n" not in (resp.error or "")
        assert not started
    else:
        assert resp.status == "auth_required", resp.error
        assert not any("review this" in a for c in started for a in c["argv"])
