"""grok adapter: argv prompt and env key, exit-0 API errors classified, writes refused."""

from __future__ import annotations

import json

import pytest

import multi_model
from multi_model.config import ProviderSettings, Settings
from multi_model.models import Request, RunOutput
from multi_model.providers import builtin
from tests.conftest import FakeCLIs, fixture_text
from tests.providers.samples import reader

grok = builtin("grok")
OK = "MOCK_OK: hello from the mock model"


out = reader("grok")


def lines(*messages: dict[str, object]) -> str:
    return "".join(json.dumps(m) + "\n" for m in messages)


def test_grok_has_no_read_only_mode() -> None:
    assert grok.read_only is False


def test_build_puts_prompt_in_one_argv_element() -> None:
    inv = grok.build(Request(prompt="-x hi\n  there  "), {"PATH": "/x"}, "/bin/grok")
    assert inv.argv == ("/bin/grok", "--prompt=-x hi\n  there  ")
    assert inv.stdin is None and inv.prompt_file is None
    assert dict(inv.env) == {"PATH": "/x"}


def test_build_model_and_extra_args_come_before_the_prompt() -> None:
    inv = grok.build(
        Request(prompt="p", model="grok-4-latest", extra_args=("-d", "/w")), {}, "grok"
    )
    assert inv.argv == ("grok", "--model=grok-4-latest", "-d", "/w", "--prompt=p")


def test_allow_writes_changes_nothing() -> None:
    assert grok.build(Request(prompt="p", allow_writes=True), {}, "g") == grok.build(
        Request(prompt="p"), {}, "g"
    )


@pytest.mark.parametrize(
    "env, key",
    [
        ({"XAI_API_KEY": "xai"}, "xai"),
        ({"XAI_API_KEY": "xai", "GROK_API_KEY": "grok"}, "grok"),
        ({}, None),
    ],
)
def test_xai_key_is_offered_as_grok_key(env: dict[str, str], key: str | None) -> None:
    assert grok.build(Request(prompt="p"), env, "g").env.get("GROK_API_KEY") == key


def test_parse_ok() -> None:
    parsed = grok.parse(out("ok.jsonl"))
    assert (parsed.status, parsed.text) == ("ok", OK)


@pytest.mark.parametrize("name", ["tool-write.default.jsonl", "tool-write.max-tool-rounds-0.jsonl"])
def test_answer_is_the_last_assistant_message(name: str) -> None:
    assert grok.parse(out(name)).text == "MOCK_DONE: tool step finished"


def test_text_is_kept_exactly() -> None:
    stdout = lines(
        {"role": "user", "content": "p"}, {"role": "assistant", "content": "  two\n\nlines  \n"}
    )
    assert grok.parse(RunOutput(stdout=stdout, exit_code=0)).text == "  two\n\nlines  \n"


@pytest.mark.parametrize(
    "name, status",
    [
        ("401.jsonl", "auth_required"),
        ("404.jsonl", "model_not_found"),
        ("429.jsonl", "rate_limited"),
        ("500.jsonl", "server_error"),
        ("dns-fail.jsonl", "network"),
        ("conn-refused.jsonl", "network"),
    ],
)
def test_exit_zero_api_errors_are_failures(name: str, status: str) -> None:
    parsed = grok.parse(out(name, exit_code=0))
    assert parsed.status == status
    assert parsed.text == ""
    assert (parsed.error or "").startswith("Grok API error:")


def test_rate_limit_reset_time() -> None:
    assert grok.parse(out("429.jsonl")).retry_after_s == 1.0


def test_status_number_wins_over_message_text() -> None:
    stdout = lines(
        {
            "role": "assistant",
            "content": "Sorry, I encountered an error: Grok API error: 404 quota exceeded",
        }
    )
    assert grok.parse(RunOutput(stdout=stdout, exit_code=0)).status == "model_not_found"


def test_missing_key_is_auth_required() -> None:
    parsed = grok.parse(out("no-key.stderr.txt", exit_code=1))
    assert parsed.status == "auth_required"
    assert "GROK_API_KEY" in (parsed.error or "")


def test_fatal_error_message_with_exit_1() -> None:
    stdout = lines({"role": "assistant", "content": "Error: fetch failed"})
    assert grok.parse(RunOutput(stdout=stdout, exit_code=1)).status == "network"


@pytest.mark.parametrize(
    "stdout, error",
    [
        (fixture_text("grok", "max-tool-rounds.negative.jsonl"), "tool-round limit"),
        (
            lines(
                {
                    "role": "assistant",
                    "content": "I understand, but I don't have a specific response.",
                }
            ),
            "no text",
        ),
    ],
)
def test_placeholder_answers_are_empty_output(stdout: str, error: str) -> None:
    parsed = grok.parse(RunOutput(stdout=stdout, exit_code=0))
    assert parsed.status == "empty_output"
    assert error in (parsed.error or "")


@pytest.mark.parametrize(
    "stdout, status",
    [
        ("\x1b[31mgarbage\x1b[0m", "bad_output"),
        ("", "empty_output"),
        (lines({"role": "user", "content": "p"}), "bad_output"),
    ],
)
def test_exit_zero_without_answer(stdout: str, status: str) -> None:
    assert grok.parse(RunOutput(stdout=stdout, exit_code=0)).status == status


def test_pipeline_refuses_grok_unless_writes_are_allowed(fake_clis: FakeCLIs) -> None:
    fake_clis.set("grok", fixture="grok/ok.jsonl")
    [resp] = multi_model.dispatch(["grok"], "p", settings=Settings(), env=fake_clis.env())
    assert resp.status == "refused" and "allow_writes" in (resp.error or "")
    assert fake_clis.calls("grok") == []


def test_pipeline_with_fake_grok(fake_clis: FakeCLIs) -> None:
    fake_clis.set("grok", fixture="grok/ok.jsonl", version="1.0.1")
    settings = Settings(providers={"grok": ProviderSettings(allow_writes=True)})
    env = fake_clis.env(
        XAI_API_KEY="xai",
        GROK_BASE_URL="http://127.0.0.1:9/v1",
        OPENAI_API_KEY="o",
        MORPH_API_KEY="m",
    )
    [resp] = multi_model.dispatch(["grok:grok-4-latest"], "say hi\n", settings=settings, env=env)
    assert (resp.status, resp.text, resp.cli_version) == ("ok", OK, "1.0.1")
    [call] = [c for c in fake_clis.calls("grok") if c["argv"][:1] != ["--version"]]
    assert call["argv"] == ["--model=grok-4-latest", "--prompt=say hi\n"]
    assert call["stdin"] == ""
    assert call["env"]["GROK_API_KEY"] == "xai"
    assert call["env"]["GROK_BASE_URL"] == "http://127.0.0.1:9/v1"
    assert not {"OPENAI_API_KEY", "MORPH_API_KEY"} & set(call["env"])


def test_pipeline_reports_exit_zero_error_as_failure(fake_clis: FakeCLIs) -> None:
    fake_clis.set("grok", fixture="grok/401.jsonl")
    settings = Settings(providers={"grok": ProviderSettings(allow_writes=True)})
    [resp] = multi_model.dispatch(
        ["grok"], "p", settings=settings, env=fake_clis.env(GROK_API_KEY="bad")
    )
    assert (resp.status, resp.exit_code, resp.text) == ("auth_required", 0, "")


def test_login_nag_with_exit_0_is_auth_required_saying_to_log_in() -> None:
    parsed = grok.parse(
        RunOutput(stderr="❌ Error: API key required. Set GROK_API_KEY\n", exit_code=0)
    )
    assert parsed.status == "auth_required"
    assert "GROK_API_KEY" in (parsed.error or "") and "log in" in (parsed.error or "")
