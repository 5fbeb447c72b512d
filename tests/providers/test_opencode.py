"""opencode adapter: argv/stdin/env built right, recorded outputs parsed and classified."""

from __future__ import annotations

import json

import pytest

import multi_model
from multi_model.config import ProviderSettings, Settings
from multi_model.models import Request, RunOutput
from multi_model.providers import builtin
from multi_model.providers.opencode import READ_ONLY_PERMISSION
from tests.conftest import FakeCLIs, fixture_text
from tests.providers.samples import reader

opencode = builtin("opencode")
OK = "MOCK_OK: hello from the mock model"
HEAD = ("/bin/opencode", "run", "--format", "json", "--print-logs", "--log-level", "ERROR")


out = reader("opencode")


def event(kind: str, **fields: object) -> str:
    return json.dumps({"type": kind, "sessionID": "ses_1", **fields})


def test_build_reads_prompt_from_stdin_in_plan_agent_with_permission_env() -> None:
    inv = opencode.build(Request(prompt="hi\n  there  "), {"PATH": "/x"}, "/bin/opencode")
    assert inv.argv == (*HEAD, "--agent", "plan")
    assert inv.stdin == "hi\n  there  "
    assert inv.prompt_file is None
    assert dict(inv.env) == {"PATH": "/x", "OPENCODE_PERMISSION": READ_ONLY_PERMISSION}
    assert json.loads(READ_ONLY_PERMISSION) == {"edit": "deny", "bash": "deny"}


def test_read_only_overrides_a_user_permission_env() -> None:
    inv = opencode.build(Request(prompt="p"), {"OPENCODE_PERMISSION": '{"edit":"allow"}'}, "oc")
    assert inv.env["OPENCODE_PERMISSION"] == READ_ONLY_PERMISSION


def test_model_and_extra_args() -> None:
    inv = opencode.build(
        Request(prompt="p", model="openai/gpt-5.4", extra_args=("--pure",)), {}, "/bin/opencode"
    )
    assert inv.argv == (*HEAD, "--agent", "plan", "--model=openai/gpt-5.4", "--pure")


def test_writes_allowed_use_the_build_agent_and_leave_env_alone() -> None:
    env = {"PATH": "/x", "OPENCODE_PERMISSION": '{"edit":"allow"}'}
    inv = opencode.build(Request(prompt="p", allow_writes=True), env, "/bin/opencode")
    assert inv.argv == HEAD
    assert dict(inv.env) == env


def test_parse_ok_keeps_text_usage_and_session() -> None:
    parsed = opencode.parse(out("ok.format-json.jsonl"))
    assert (parsed.status, parsed.text) == ("ok", OK)
    assert parsed.session_id == "ses_e0366a9d9ffeaoqcPaXRXHD7El"
    assert parsed.usage is not None
    assert (
        parsed.usage.input_tokens,
        parsed.usage.output_tokens,
        parsed.usage.total_tokens,
        parsed.usage.reasoning_tokens,
        parsed.usage.cached_input_tokens,
    ) == (11, 3, 14, 0, 0)
    assert parsed.usage.cost_usd == 0


def test_parse_keeps_whitespace_of_streamed_text_exactly() -> None:
    parsed = opencode.parse(out("ok-whitespace.agent-plan.format-json.jsonl"))
    assert parsed.text == "  MOCK_OK: hello\n\nfrom the mock model  "


@pytest.mark.parametrize(
    "name",
    [
        "tool-write.default.format-json.jsonl",
        "tool-denied.agent-plan.format-json.jsonl",
        "bash-write.agent-plan.format-json.jsonl",
        "bash-unavailable.agent-plan-permission-env.format-json.jsonl",
    ],
)
def test_answer_is_the_last_step_and_usage_sums_steps(name: str) -> None:
    parsed = opencode.parse(out(name))
    assert (parsed.status, parsed.text) == ("ok", "MOCK_DONE: tool step finished")
    assert parsed.usage and (parsed.usage.input_tokens, parsed.usage.output_tokens) == (22, 8)


def test_text_parts_of_one_step_are_joined_without_separators() -> None:
    stdout = "\n".join(
        [
            event("step_start"),
            event("text", part={"id": "a", "text": "old"}),
            event("step_finish", part={"reason": "tool-calls"}),
            event("step_start"),
            event("text", part={"id": "b", "text": "one "}),
            event("text", part={"id": "c", "text": "two"}),
            event("text", part={"id": "b", "text": "ONE "}),  # a re-sent part replaces its text
        ]
    )
    assert opencode.parse(RunOutput(stdout=stdout, exit_code=0)).text == "ONE two"


@pytest.mark.parametrize(
    "name, status",
    [
        ("401.format-json.jsonl", "auth_required"),
        ("404.format-json.jsonl", "model_not_found"),
        ("429.format-json.jsonl", "rate_limited"),
        ("500.format-json.jsonl", "server_error"),
        ("conn-refused.format-json.jsonl", "network"),
        ("drop.format-json.jsonl", "network"),  # the server closed the socket without a reply
        ("no-config-no-network.format-json.jsonl", "network"),
    ],
)
def test_errors_classified_from_error_event(name: str, status: str) -> None:
    parsed = opencode.parse(out(name, exit_code=1))
    assert parsed.status == status
    assert parsed.error and parsed.session_id and parsed.session_id.startswith("ses_")


def test_rate_limit_reset_comes_from_the_retry_after_header() -> None:
    assert opencode.parse(out("429.format-json.jsonl", 1)).retry_after_s == 1.0


def test_status_code_wins_over_message_text() -> None:
    stdout = event(
        "error",
        error={"name": "APIError", "data": {"message": "quota exceeded", "statusCode": 404}},
    )
    parsed = opencode.parse(RunOutput(stdout=stdout, exit_code=1))
    assert parsed.status == "model_not_found"
    assert parsed.error == "HTTP 404: APIError: quota exceeded"


def test_unknown_error_is_classified_from_the_logged_cause() -> None:
    stderr = fixture_text("opencode", "unknown-model.print-logs.stderr.txt")
    parsed = opencode.parse(out("unknown-model.format-json.jsonl", 1, stderr))
    assert parsed.status == "model_not_found"
    assert parsed.error == (
        "ProviderModelNotFoundError: Model not found: mock/other-model. Did you mean: mock-model?"
    )


def test_unknown_error_without_logs_is_crashed() -> None:
    parsed = opencode.parse(out("unknown-model.format-json.jsonl", 1))
    assert parsed.status == "crashed"
    assert "Unexpected server error" in (parsed.error or "")


def test_rejected_tool_with_no_answer_is_empty_output_with_the_reason() -> None:
    stderr = fixture_text("opencode", "tool-rejected-no-answer.default.stderr.txt")
    parsed = opencode.parse(out("tool-rejected-no-answer.default.format-json.jsonl", 0, stderr))
    assert parsed.status == "empty_output"
    assert "external_directory" in (parsed.error or "") and "\x1b" not in (parsed.error or "")


@pytest.mark.parametrize(
    "stdout, status",
    [
        ("\x1b[31mgarbage\x1b[0m", "bad_output"),
        ("", "empty_output"),
    ],
)
def test_exit_zero_without_events(stdout: str, status: str) -> None:
    assert opencode.parse(RunOutput(stdout=stdout, exit_code=0)).status == status


def test_nonzero_exit_without_events_uses_stderr() -> None:
    parsed = opencode.parse(
        RunOutput(stderr="Error: connect ECONNREFUSED 127.0.0.1:9", exit_code=1)
    )
    assert parsed.status == "network"


@pytest.mark.parametrize(
    "name, state",
    [
        ("auth-list.empty.stdout.txt", "unknown"),
        ("auth-list.one-credential.stdout.txt", "logged_in"),
    ],
)
def test_auth_probe(name: str, state: str) -> None:
    assert opencode.auth.probe == ("auth", "list")
    probe = RunOutput(stdout=fixture_text("opencode", name), exit_code=0)
    assert opencode.parse_auth(probe) == state


def test_models_probe_lists_provider_slash_model_ids() -> None:
    assert opencode.models_probe == ("models",)
    ids = opencode.parse_models(
        RunOutput(stdout=fixture_text("opencode", "models.stdout.txt"), exit_code=0)
    )
    assert len(ids) == 65 and ids[0] == "opencode/big-pickle" and "openai/gpt-5.4" in ids


def test_pipeline_with_fake_opencode(fake_clis: FakeCLIs) -> None:
    fake_clis.set("opencode", fixture="opencode/ok.format-json.jsonl", version="1.18.33")
    env = fake_clis.env(OPENAI_API_KEY="o", OPENCODE_CONFIG="/cfg.json")
    [resp] = multi_model.dispatch(
        ["opencode:opencode/big-pickle"], "say hi\n", settings=Settings(), env=env
    )
    assert (resp.status, resp.text, resp.cli_version) == ("ok", OK, "1.18.33")
    assert resp.session_id == "ses_e0366a9d9ffeaoqcPaXRXHD7El"
    [call] = [c for c in fake_clis.calls("opencode") if c["argv"][:1] != ["--version"]]
    assert call["argv"] == [*HEAD[1:], "--agent", "plan", "--model=opencode/big-pickle"]
    assert call["stdin"] == "say hi\n"
    assert call["env"]["OPENCODE_CONFIG"] == "/cfg.json"
    assert call["env"]["OPENCODE_PERMISSION"] == READ_ONLY_PERMISSION
    assert "OPENAI_API_KEY" not in call["env"]


def test_pipeline_passes_vendor_keys_only_when_configured(fake_clis: FakeCLIs) -> None:
    fake_clis.set("opencode", fixture="opencode/ok.format-json.jsonl")
    settings = Settings(providers={"opencode": ProviderSettings(env=["OPENAI_API_KEY"])})
    multi_model.dispatch(
        ["opencode"],
        "p",
        settings=settings,
        env=fake_clis.env(OPENAI_API_KEY="o", GEMINI_API_KEY="g"),
    )
    [call] = [c for c in fake_clis.calls("opencode") if c["argv"][:1] != ["--version"]]
    assert call["env"]["OPENAI_API_KEY"] == "o" and "GEMINI_API_KEY" not in call["env"]


def test_login_nag_with_exit_0_is_auth_required_saying_to_log_in() -> None:
    parsed = opencode.parse(RunOutput(stdout="Error: not logged in to any provider\n", exit_code=0))
    assert parsed.status == "auth_required"
    assert "opencode auth login" in (parsed.error or "")
