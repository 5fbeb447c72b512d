"""OpenAI Codex CLI: `codex exec --json`, prompt on stdin via `-`, read-only sandbox.

Effort suffixes on the model (`gpt-5.4-high`) become `-c model_reasoning_effort="high"`.
The answer is the last `agent_message` item; `turn.failed` carries the terminal error.
A session continues with the `resume THREAD_ID` subcommand after exec's own options.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from multi_model.models import Invocation, Parsed, Request, RunOutput
from multi_model.providers.base import AuthHints, CliProvider, Serves, model_arg
from multi_model.providers.families import OPENAI
from multi_model.providers.parse import as_str, dig, failure, json_lines, usage_from

EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
_EFFORT_RE = re.compile(rf"(.+)-({'|'.join(EFFORTS)})")


def split_effort(model: str) -> tuple[str, str | None]:
    """('gpt-5.4', 'high') for 'gpt-5.4-high'; the model unchanged when it has no suffix."""
    match = _EFFORT_RE.fullmatch(model)
    return (match.group(1), match.group(2)) if match else (model, None)


class Codex(CliProvider):
    name = "codex"
    executables = ("codex",)
    env_allow = ("OPENAI_*", "CODEX_*", "AZURE_OPENAI_*", "RUST_LOG")
    auth = AuthHints(
        env=("OPENAI_API_KEY", "CODEX_API_KEY"),
        files=(".codex/auth.json",),
        probe=("login", "status"),
    )
    catalog = ("gpt-5.5", "gpt-5.4", "gpt-5.4-mini", "gpt-5.3-codex", "o3", "o4-mini")
    rate_bucket = "openai"  # OpenAI (ChatGPT plan or API key)
    routes = (Serves(OPENAI),)
    seat_rank = 0
    install_hint = "npm install -g @openai/codex"
    login_hint = "codex login"
    resume_flag = "resume"  # a subcommand: `codex exec [options] resume ID -`

    def build(self, req: Request, env: Mapping[str, str], executable: str) -> Invocation:
        argv = [
            executable,
            "exec",
            "--json",
            "--skip-git-repo-check",
            "--sandbox",
            "workspace-write" if req.allow_writes else "read-only",
        ]
        if req.model:
            model, effort = split_effort(req.model)
            argv += model_arg("--model", model)
            if effort:
                argv += ["-c", f'model_reasoning_effort="{effort}"']
        argv += [*req.extra_args, *self.resume_args(req), "-"]
        return Invocation(argv=tuple(argv), env=env, stdin=req.prompt, cwd=req.cwd)

    def parse(self, out: RunOutput) -> Parsed:
        session = text = failed = last_error = None
        usage = None
        for event in json_lines(out.stdout):
            kind = event.get("type")
            if kind == "thread.started":
                session = as_str(event.get("thread_id"))
            elif kind == "item.completed" and dig(event, "item", "type") == "agent_message":
                text = as_str(dig(event, "item", "text"))
            elif kind == "turn.completed":
                usage = usage_from(
                    event.get("usage"),
                    input="input_tokens",
                    output="output_tokens",
                    cached="cached_input_tokens",
                    reasoning="reasoning_output_tokens",
                )
            elif kind == "turn.failed":
                failed = as_str(dig(event, "error", "message")) or "turn failed"
            elif kind == "error":
                last_error = as_str(event.get("message"))
        if failed is not None:
            return _with_session(failure(failed, self.rules), session)
        if text is not None:
            return Parsed(text=text, usage=usage, session_id=session)
        if out.exit_code != 0:
            if last_error:
                return _with_session(failure(last_error, self.rules), session)
            return self.exit_failure(out)
        return replace(self.no_answer(out, "agent_message"), session_id=session)


def _with_session(parsed: Parsed, session: str | None) -> Parsed:
    return replace(parsed, session_id=session)
