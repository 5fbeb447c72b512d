"""Qwen Code (a gemini-cli fork speaking OpenAI chat completions): `qwen -o json`, prompt on stdin.

Prompt: no positional prompt and no `-p` (deprecated); with stdin not a TTY, qwen reads all
of stdin (at most 8 MiB; beyond that it warns `stdin input truncated`: `oversize`) and sends
it followed by a blank line: the user message is `prompt + "\\n\\n"` (verified on 0.15.10
and 0.24.4 against a local mock; the code joins stdin and the empty argv prompt that way).

Read-only: `--approval-mode default` gives the headless main agent no edit, write or shell
tools (verified: init event's tool list); `auto-edit` adds edit and write_file. Passed always,
because 0.24.4's own headless default is `auto` (an LLM classifier that approves actions).

Auth: `--auth-type` is not passed. qwen picks OpenAI-compatible auth by itself when
OPENAI_API_KEY, OPENAI_BASE_URL and OPENAI_MODEL are all set (verified), and otherwise uses
the type chosen in ~/.qwen/settings.json. Forcing `openai` whenever OPENAI_API_KEY is set
would override that choice for anyone who exports the key for other tools, and without
OPENAI_BASE_URL qwen would send that OpenAI key to DashScope. Users who want the flag can put
it in `[providers.qwen] args`.

Env: OPENAI_* is a deliberate cross-vendor exception: qwen's OpenAI-compatible auth reads
these variables. NO_BROWSER=1 keeps an OAuth flow from opening a browser.

Output (`-o json`): one JSON array of events; the final `result` event has `result`,
`is_error`, `error.message`, `usage`, `session_id`. 0.24.4 reports API errors with
`is_error: true` and exit 1; 0.15.10 reports them as a *successful* result whose text is
`[API Error: ...]`, exit 0 (verified), so that text is classified too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from multi_model.models import Invocation, Parsed, Request, RunOutput
from multi_model.providers.base import AuthHints, CliProvider, Serves, model_arg
from multi_model.providers.families import QWEN
from multi_model.providers.gemini import prompt_cut
from multi_model.providers.parse import as_int, as_str, dig, failure, json_document, usage_from

_API_ERROR = "[API Error:"


class Qwen(CliProvider):
    name = "qwen"
    executables = ("qwen",)
    env_allow = ("QWEN_*", "DASHSCOPE_*", "BAILIAN_*", "OPENAI_*")
    rules = (
        (
            re.compile(r"(?i)free tier was discontinued|Run /auth\b|No auth type is selected"),
            "auth_required",
        ),
    )
    auth = AuthHints(
        env=("DASHSCOPE_API_KEY", "BAILIAN_CODING_PLAN_API_KEY", "QWEN_OAUTH"),
        files=(".qwen/settings.json", ".qwen/oauth_creds.json"),
    )
    catalog = ("coder-model", "qwen3-coder-plus", "qwen3.8-max", "qwen3.8-flash", "qwen3.7-plus")
    # Alibaba Qwen (Coding Plan, DashScope or your OpenAI-compatible endpoint)
    rate_bucket = "qwen"
    routes = (Serves(QWEN),)
    seat_rank = 4
    install_hint = "npm install -g @qwen-code/qwen-code"
    login_hint = (
        "run `qwen` once in a terminal and use /auth, or set OPENAI_API_KEY, "
        "OPENAI_BASE_URL and OPENAI_MODEL"
    )
    resume_flag = "--resume"

    def build(self, req: Request, env: Mapping[str, str], executable: str) -> Invocation:
        argv = [
            executable,
            "-o",
            "json",
            "--approval-mode",
            "auto-edit" if req.allow_writes else "default",
        ]
        argv += [*model_arg("--model", req.model), *self.resume_args(req), *req.extra_args]
        child = {**env, "NO_BROWSER": "1"}
        return Invocation(argv=tuple(argv), env=child, stdin=req.prompt, cwd=req.cwd)

    def parse(self, out: RunOutput) -> Parsed:
        cut = prompt_cut(out, "qwen")
        if cut:
            return cut
        events = json_document(out.stdout)
        events = [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []
        result = next((e for e in reversed(events) if e.get("type") == "result"), None)
        if result is None:
            if out.exit_code != 0:
                return self.exit_failure(out)
            return self.no_answer(out, "result event")
        return self._read_result(result, events)

    def _read_result(self, result: dict[str, object], events: list[dict[str, object]]) -> Parsed:
        session = as_str(result.get("session_id"))
        usage = usage_from(
            result.get("usage"),
            input="input_tokens",
            output="output_tokens",
            cached="cache_read_input_tokens",
            total="total_tokens",
        )
        text = as_str(result.get("result"))
        if result.get("is_error") is True:
            message = as_str(dig(result, "error", "message")) or "qwen reported an error"
            return replace(failure(message, self.rules), session_id=session)
        if text is None:
            return Parsed(
                status="bad_output", error="qwen's result event has no text", session_id=session
            )
        if text.startswith(_API_ERROR) and not as_int(dig(result, "usage", "output_tokens")):
            return replace(failure(text, self.rules), session_id=session)
        return Parsed(text=text, usage=usage, session_id=session, model_reported=_model(events))


def _model(events: list[dict[str, object]]) -> str | None:
    """The model of the last assistant message, else the one the init event names."""
    for event in reversed(events):
        model = (
            as_str(dig(event, "message", "model"))
            if event.get("type") == "assistant"
            else as_str(event.get("model"))
            if event.get("subtype") == "init"
            else None
        )
        if model:
            return model
    return None
