"""Cursor CLI: `cursor-agent --print --output-format json --mode ask --trust`, prompt on stdin.

Written from Cursor's documentation (the CLI cannot be installed offline). `--mode ask` is
read-only; writes drop it and add `--force` (without it print mode only proposes changes).
Success is one Claude-Code-compatible line `{"type":"result","subtype":"success",
"is_error":false,"result":...,"session_id":...}`; a failure exits non-zero with the message on
stderr and no JSON. The generic `agent` executable name is vetted by detection (CalVer).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from multi_model.models import Invocation, Parsed, Request, RunOutput
from multi_model.providers.base import AuthHints, AuthState, CliProvider, Serves, model_arg
from multi_model.providers.families import ANY, GEMINI, MISTRAL, OPENAI, QWEN
from multi_model.providers.parse import ANSI_RE, as_str, failure, result_event

_MODEL_ID = re.compile(r"[a-z0-9][\w.:/@\[\]=,-]*(?<!:)")
_LOGGED_OUT = re.compile(
    r"not logged in|not authenticated|unauthenticated"
    r"|authentication required",
    re.IGNORECASE,
)
_LOGGED_IN = re.compile(
    r"logged in as|login successful|\"isAuthenticated\"\s*:\s*true", re.IGNORECASE
)


class CursorAgent(CliProvider):
    name = "cursor-agent"
    executables = ("cursor-agent", "agent")
    env_allow = ("CURSOR_*",)
    rules = (
        (re.compile(r"cannot use this model", re.I), "model_not_found"),
        (re.compile(r"unauthenticat|(cursor-)?agent login", re.I), "auth_required"),
        (re.compile(r"usage limit|hit your limit|out of (fast )?requests", re.I), "rate_limited"),
    )
    # ~/.cursor/cli-config.json alone does not prove a login (it needs an authInfo block), so
    # no file counts; the bounded `status` probe decides.
    auth = AuthHints(env=("CURSOR_API_KEY",), probe=("status",))
    models_probe = ("models",)
    catalog = ("auto", "composer-2", "composer-2-fast", "gpt-5.5", "gpt-5.5-high", "gpt-5.3-codex")
    rate_bucket = "cursor"  # Cursor plan (included usage, then usage-based)
    routes = (
        Serves(OPENAI, rank=1),
        Serves(GEMINI, rank=1),
        Serves(QWEN, rank=1),
        Serves(MISTRAL, rank=1),
        Serves(ANY, rank=1),
    )
    seat_rank = 2
    install_hint = "curl https://cursor.com/install -fsS | bash"
    login_hint = "cursor-agent login (or set CURSOR_API_KEY)"
    resume_flag = "--resume"

    def build(self, req: Request, env: Mapping[str, str], executable: str) -> Invocation:
        argv = [executable, "--print", "--output-format", "json"]
        argv += ["--force"] if req.allow_writes else ["--mode", "ask"]
        argv += [
            "--trust",
            *model_arg("--model", req.model),
            *self.resume_args(req),
            *req.extra_args,
        ]
        return Invocation(argv=tuple(argv), env=env, stdin=req.prompt, cwd=req.cwd)

    def parse(self, out: RunOutput) -> Parsed:
        event = result_event(out.stdout)
        if event is None:
            if out.exit_code != 0:
                return self.exit_failure(out)
            return self.no_answer(out, "result object")
        session = as_str(event.get("session_id"))
        text = as_str(event.get("result"))
        if event.get("is_error") is True or event.get("subtype", "success") != "success":
            message = text or f"cursor-agent run ended with {event.get('subtype') or 'an error'}"
            return replace(failure(message, self.rules), session_id=session)
        if text is None:
            return Parsed(
                status="bad_output", error="cursor-agent result has no text", session_id=session
            )
        return Parsed(text=text, session_id=session)

    def parse_auth(self, out: RunOutput) -> AuthState:
        """`cursor-agent status`: 'Not logged in' / 'Logged in as <email>'."""
        if out.timed_out or out.spawn_error or out.exit_code is None:
            return "unknown"
        text = ANSI_RE.sub("", f"{out.stdout}\n{out.stderr}")
        if _LOGGED_OUT.search(text):
            return "logged_out"
        if _LOGGED_IN.search(text):
            return "logged_in"
        return super().parse_auth(out)

    def parse_models(self, out: RunOutput) -> list[str]:
        """`cursor-agent models`: `id - Display Name` lines (or bare ids) under a heading."""
        if out.exit_code not in (0, None):
            return []
        ids: list[str] = []
        for line in ANSI_RE.sub("", out.stdout).splitlines():
            words = line.strip().lstrip("*•>").split()
            if words and _MODEL_ID.fullmatch(words[0]) and words[0] not in ids:
                ids.append(words[0])
        return ids
