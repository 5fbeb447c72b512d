"""Claude Code: `claude -p --output-format json`, prompt on stdin, read-only tools only.

Read-only means `--tools Read,Glob,Grep` (the model is offered no other built-in tool) with
`--permission-mode default`; writes add Edit,Write and `acceptEdits`. The run prints one
`{"type":"result",...}` object: `result` is the answer, `is_error` / `api_error_status` the
failure, `modelUsage` keys the models that ran. A nested claude that inherits the parent
session's variables hangs, so those are denied and also dropped again in `build`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from multi_model.models import Invocation, Parsed, Request, RunOutput, Usage
from multi_model.providers.base import AuthHints, AuthState, CliProvider, env_matches, model_arg
from multi_model.providers.parse import (
    as_int,
    as_str,
    dig,
    failure,
    http_class,
    json_document,
    result_event,
    usage_from,
)

SESSION_VARS = (
    "CLAUDECODE",
    "CLAUDE_CODE_*",
    "CLAUDE_PLUGIN_*",
    "CLAUDE_PROJECT_DIR",
    "CLAUDE_ENV_FILE",
    "CLAUDE_AGENT_SDK_*",
)
"""Claude Code session markers: a nested `claude` that inherits them hangs. Denied as
patterns, so markers added by future versions stay out too; only `KEEP` passes."""
KEEP = frozenset(
    {
        "CLAUDE_CODE_OAUTH_TOKEN",
        "CLAUDE_CODE_USE_BEDROCK",
        "CLAUDE_CODE_USE_VERTEX",
        "CLAUDE_CODE_MAX_RETRIES",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC",
        "CLAUDE_CODE_EFFORT_LEVEL",
    }
)
READ_TOOLS = "Read,Glob,Grep"
WRITE_TOOLS = "Read,Glob,Grep,Edit,Write"

# Claude's own nags read "<problem> · Please run /login"; an answer that merely mentions /login
# must not match, hence the anchor and the middle dot.
_LOGIN_NAG = re.compile(
    r"\s*(not logged in\b|[^\n]{0,80}\u00b7 please run /login\b)", re.IGNORECASE
)


def claude_model_id(model: str) -> str:
    """'claude-opus-4.8' -> 'claude-opus-4-8'; drops an 'anthropic/' prefix; aliases unchanged."""
    model = model.removeprefix("anthropic/")
    return re.sub(r"(?<=\d)\.(?=\d)", "-", model) if model.startswith("claude-") else model


class Claude(CliProvider):
    name = "claude"
    executables = ("claude",)
    env_allow = (
        "ANTHROPIC_*",
        "CLAUDE_CONFIG_DIR",
        *sorted(KEEP),
        "DISABLE_TELEMETRY",
        "AWS_REGION",
        "AWS_PROFILE",
        "CLOUD_ML_REGION",
    )
    env_deny = SESSION_VARS
    rules = (
        (re.compile(r"please run /login|oauth token (has )?expired", re.I), "auth_required"),
        (re.compile(r"issue with the selected model", re.I), "model_not_found"),
        (re.compile(r"request too large", re.I), "oversize"),
        (re.compile(r"credit balance is too low|usage limit|hit your limit", re.I), "rate_limited"),
    )
    auth = AuthHints(
        env=(
            "ANTHROPIC_API_KEY",
            "ANTHROPIC_AUTH_TOKEN",
            "CLAUDE_CODE_OAUTH_TOKEN",
            "CLAUDE_CODE_USE_BEDROCK",
            "CLAUDE_CODE_USE_VERTEX",
        ),
        files=(".claude/.credentials.json",),
        probe=("auth", "status", "--json"),
    )
    catalog = (
        "claude-opus-4-8",
        "claude-fable-5",
        "claude-sonnet-5",
        "claude-sonnet-4-6",
        "claude-haiku-4-5",
        "opus",
        "sonnet",
        "haiku",
    )
    rate_bucket = "anthropic"  # Anthropic (Claude plan or API key)
    install_hint = "npm install -g @anthropic-ai/claude-code"
    login_hint = "claude auth login (or set ANTHROPIC_API_KEY)"
    resume_flag = "--resume"

    def build(self, req: Request, env: Mapping[str, str], executable: str) -> Invocation:
        argv = [executable, "-p", "--output-format", "json"]
        if req.model:
            argv += model_arg("--model", claude_model_id(req.model))
        argv += [
            "--tools",
            WRITE_TOOLS if req.allow_writes else READ_TOOLS,
            "--permission-mode",
            "acceptEdits" if req.allow_writes else "default",
            *self.resume_args(req),
            *req.extra_args,
        ]
        child = {k: v for k, v in env.items() if k in KEEP or not env_matches(k, SESSION_VARS)}
        return Invocation(argv=tuple(argv), env=child, stdin=req.prompt, cwd=req.cwd)

    def parse(self, out: RunOutput) -> Parsed:
        event = result_event(out.stdout)
        if event is None:
            if out.exit_code != 0:
                return self.exit_failure(out)
            return self.no_answer(out, "result object")
        session = as_str(event.get("session_id"))
        text = as_str(event.get("result"))
        if text is not None and out.exit_code == 0 and _LOGIN_NAG.match(text) and len(text) < 200:
            return replace(self.login_nag(text), session_id=session)
        if event.get("is_error") is True or str(event.get("subtype", "")).startswith("error"):
            return replace(self._error(event, text), session_id=session)
        if text is None:
            return Parsed(
                status="bad_output", error="claude result has no text", session_id=session
            )
        return Parsed(
            text=text,
            usage=_usage(event),
            session_id=session,
            model_reported=_main_model(event.get("modelUsage")),
        )

    def parse_auth(self, out: RunOutput) -> AuthState:
        """`claude auth status --json` -> {"loggedIn": bool, ...} (exit 1 when logged out)."""
        if out.timed_out or out.spawn_error or out.exit_code is None:
            return "unknown"
        logged_in = dig(json_document(out.stdout), "loggedIn")
        if isinstance(logged_in, bool):
            return "logged_in" if logged_in else "logged_out"
        return super().parse_auth(out)

    def _error(self, event: dict[str, object], text: str | None) -> Parsed:
        errors = event.get("errors")
        details = [e for e in errors if isinstance(e, str)] if isinstance(errors, list) else []
        message = (
            text
            or "; ".join(details)
            or f"claude run ended with {event.get('subtype') or 'an error'}"
        )
        return failure(
            message, self.rules, status=http_class(as_int(event.get("api_error_status")))
        )


def _usage(event: dict[str, object]) -> Usage | None:
    usage = usage_from(
        event.get("usage"),
        input="input_tokens",
        output="output_tokens",
        cached="cache_read_input_tokens",
    )
    raw = event.get("usage")
    if usage is not None and usage.input_tokens is not None and isinstance(raw, dict):
        # Anthropic counts cache reads and writes apart from input_tokens; ours include them
        extra = sum(
            as_int(raw.get(k)) or 0
            for k in ("cache_read_input_tokens", "cache_creation_input_tokens")
        )
        usage = usage.model_copy(update={"input_tokens": usage.input_tokens + extra})
    cost = event.get("total_cost_usd")
    if usage is not None and isinstance(cost, (int, float)) and not isinstance(cost, bool):
        usage = usage.model_copy(update={"cost_usd": float(cost)})
    return usage


def _main_model(model_usage: object) -> str | None:
    """The model that did the work: the only key, or the one with the most output tokens."""
    if not isinstance(model_usage, dict) or not model_usage:
        return None
    best: str = max(model_usage, key=lambda m: as_int(dig(model_usage[m], "outputTokens")) or 0)
    return best
