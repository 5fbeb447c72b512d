"""opencode: `opencode run --format json --print-logs --log-level ERROR`, prompt on stdin.

With no message argument `opencode run` reads the whole prompt from stdin (verified on
1.18.33, byte-exact for a 300 KB prompt); stdin must be a file or /dev/null, an open pipe
hangs it. Read-only runs use two layers, both verified: `--agent plan` (denies the edit and
write tools and subagents) and `OPENCODE_PERMISSION={"edit":"deny","bash":"deny"}`, because
the plan agent still runs shell commands (`echo x > file` wrote the file), and an unknown
agent name silently falls back to the writing `build` agent. Writes allowed: neither.

Output is JSONL (`step_start`, `text`, `tool_use`, `step_finish`, `error`). The answer is the
`text` parts of the last step, concatenated exactly. An `error` event is classified by
`error.data.statusCode`, then its text; the opaque `UnknownError` ("Unexpected server
error") is classified from the cause that `--print-logs` writes to stderr, e.g.
`ProviderModelNotFoundError: Model not found: ...`.

Retryable failures (5xx, 429, dropped or refused connections) are retried inside the session
with no setting to bound it (1.18.33: 5 retries, 2 s doubling, +25 % jitter, a 30 s cap only
when the reply had no headers, Retry-After honoured): a dead endpoint or a 500 takes 60-78 s
before the `error` event, plus start-up. Only our process-group timeout cuts that shorter.

Env: only `OPENCODE_*` reaches it. Credentials from `opencode auth login` live in
`~/.local/share/opencode/auth.json`; vendor keys that opencode reads from the environment
(OPENAI_API_KEY, ...) must be passed explicitly with `[providers.opencode] env = [...]`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from multi_model.models import Invocation, Parsed, Request, RunOutput, Usage
from multi_model.providers.base import AuthHints, AuthState, CliProvider, model_arg
from multi_model.providers.parse import (
    ANSI_RE,
    as_int,
    as_str,
    compile_rules,
    dig,
    failure,
    http_class,
    json_lines,
    unreadable_json,
)

READ_ONLY_PERMISSION = json.dumps({"edit": "deny", "bash": "deny"}, separators=(",", ":"))

_FAILED_LINE = re.compile(r'message=failed ref=(\S+) error="((?:[^"\\]|\\.)*)"')
_COUNT = re.compile(r"(\d+) (credentials?|environment variables?)\b")


@dataclass
class _Run:
    """What the event stream said, folded event by event."""

    session: str | None = None
    step: dict[str, str] = field(default_factory=dict)  # part id -> text, in order
    usage: dict[str, float] = field(default_factory=dict)
    error: dict[str, object] | None = None
    events: int = 0


class OpenCode(CliProvider):
    name = "opencode"
    executables = ("opencode",)
    env_allow = ("OPENCODE_*",)
    rules = compile_rules(
        (r"ProviderModelNotFoundError|ProviderNotFoundError|Model not found", "model_not_found"),
        (r"ProviderAuthError", "auth_required"),
        (r"ContextOverflow", "oversize"),
        # the AI SDK's wrapper for refused, reset and closed sockets ("...closed unexpectedly")
        (r"Cannot connect to API", "network"),
    )
    auth = AuthHints(files=(".local/share/opencode/auth.json",), probe=("auth", "list"))
    models_probe = ("models",)
    catalog = (
        "opencode/big-pickle",
        "opencode/nemotron-3-ultra-free",
        "openai/gpt-5.5",
        "openai/gpt-5.4-mini",
    )
    rate_bucket = "opencode"  # the provider opencode is configured for (opencode zen by default)
    seat_rank = 5
    install_hint = "npm install -g opencode-ai"
    login_hint = "opencode auth login"
    resume_flag = "--session"

    def build(self, req: Request, env: Mapping[str, str], executable: str) -> Invocation:
        argv = [executable, "run", "--format", "json", "--print-logs", "--log-level", "ERROR"]
        child_env = dict(env)
        if not req.allow_writes:
            argv += ["--agent", "plan"]
            child_env["OPENCODE_PERMISSION"] = READ_ONLY_PERMISSION
        argv += [*model_arg("--model", req.model), *self.resume_args(req), *req.extra_args]
        return Invocation(argv=tuple(argv), env=child_env, stdin=req.prompt, cwd=req.cwd)

    def parse(self, out: RunOutput) -> Parsed:
        run = _fold(out.stdout)
        if run.error is not None:
            return replace(self._error(run.error, out.stderr), session_id=run.session)
        text = "".join(run.step.values())
        if text:
            return Parsed(text=text, usage=_usage(run.usage), session_id=run.session)
        if out.exit_code not in (0, None):
            return replace(self.exit_failure(out), session_id=run.session)
        # the reason (e.g. an auto-rejected permission) is in the log lines, not the events
        notes = [
            line
            for line in ANSI_RE.sub("", f"{out.stdout}\n{out.stderr}").splitlines()
            if line.strip() and not line.lstrip().startswith(("{", "timestamp="))
        ]
        quiet = self.no_answer(
            out,
            "text in the last step",
            said="\n".join(notes[-3:]),
            garbage=bool(out.stdout.strip()) and (not run.events or unreadable_json(out.stdout)),
        )
        return replace(quiet, usage=_usage(run.usage), session_id=run.session)

    def _error(self, error: dict[str, object], stderr: str) -> Parsed:
        """A terminal `error` event: status code first, then the text (or the logged cause)."""
        name = as_str(error.get("name")) or "error"
        message = as_str(dig(error, "data", "message")) or ""
        text = f"{name}: {message}"
        if name == "UnknownError":
            text = _logged_cause(stderr, as_str(dig(error, "data", "ref"))) or text
        parsed = failure(text, self.rules)
        code = as_int(dig(error, "data", "statusCode"))
        if code is None:
            return parsed
        status = http_class(code) or parsed.status
        retry = (_retry_after(error) or parsed.retry_after_s) if status == "rate_limited" else None
        return replace(
            parsed, status=status, error=f"HTTP {code}: {parsed.error}", retry_after_s=retry
        )

    def parse_auth(self, out: RunOutput) -> AuthState:
        """`opencode auth list` (no network): any stored credential or key means logged in.
        None is not 'logged out': opencode's free zen models and providers defined in
        opencode.json need no login."""
        if out.timed_out or out.exit_code != 0:
            return "unknown"
        counts = [int(n) for n, _ in _COUNT.findall(ANSI_RE.sub("", out.stdout))]
        return "logged_in" if any(counts) else "unknown"


def _fold(stdout: str) -> _Run:
    run = _Run()
    for event in json_lines(stdout):
        kind = event.get("type")
        run.events += isinstance(kind, str)  # an object without a type is no opencode event
        run.session = as_str(event.get("sessionID")) or run.session
        part = event.get("part")
        if kind == "step_start":
            run.step = {}
        elif kind == "text" and isinstance(part, dict) and isinstance(part.get("text"), str):
            run.step[as_str(part.get("id")) or f"#{len(run.step)}"] = part["text"]
        elif kind == "step_finish" and isinstance(part, dict):
            _add_tokens(run.usage, part)
        elif kind == "error" and isinstance(event.get("error"), dict):
            run.error = event["error"]  # type: ignore[assignment]
    return run


def _add_tokens(total: dict[str, float], part: dict[str, object]) -> None:
    """Sum one step's token counts (each step is one model call) into `total`."""
    tokens = part.get("tokens")
    counters = {
        "input": dig(tokens, "input"),
        "output": dig(tokens, "output"),
        "reasoning": dig(tokens, "reasoning"),
        "cached": dig(tokens, "cache", "read"),
        "total": dig(tokens, "total"),
        "cost": part.get("cost"),
    }
    for key, value in counters.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            total[key] = total.get(key, 0) + value


def _usage(total: dict[str, float]) -> Usage | None:
    if not total:
        return None

    def count(key: str) -> int | None:
        return int(total[key]) if key in total else None

    fresh, cached = count("input"), count("cached")
    whole = fresh + (cached or 0) if fresh is not None else None  # opencode reports them apart
    return Usage(
        input_tokens=whole,
        output_tokens=count("output"),
        reasoning_tokens=count("reasoning"),
        cached_input_tokens=count("cached"),
        total_tokens=count("total"),
        cost_usd=total.get("cost"),
    )


def _logged_cause(stderr: str, ref: str | None) -> str | None:
    """The `error="..."` of the `message=failed` log line for `ref` (else the last one)."""
    found = _FAILED_LINE.findall(stderr)
    matching = [cause for r, cause in found if ref is None or r == ref] or [c for _, c in found]
    return matching[-1].replace('\\"', '"').replace("\\n", "\n") if matching else None


def _retry_after(error: dict[str, object]) -> float | None:
    value = as_str(dig(error, "data", "responseHeaders", "retry-after"))
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
