"""Grok CLI (@vibe-kit/grok-cli): `grok [--model=M] --prompt=PROMPT`; writes files, so
`read_only = False`.

Argv prompt: grok reads no stdin and has no prompt file, so the prompt is one argv element
(`--prompt=...`, which also keeps a prompt that starts with '-' from reading as a flag); a
prompt over Linux's 128 KiB per-argument limit fails to spawn and is reported as `oversize`.

No read-only mode exists (verified on 0.0.34): headless runs approve every tool call, and
`--max-tool-rounds` cannot stop tools: `0` is read as the default 400 (`parseInt(..) || 400`),
`1` still runs one round of tools, and a negative value skips the answer itself.

Key and URL go in the env (GROK_API_KEY / GROK_BASE_URL); the `-k`/`-u` flags would save them
to ~/.grok/user-settings.json and print to stdout. XAI_API_KEY is not read by this CLI, so
build copies it to GROK_API_KEY when that is unset.

Output is JSONL of OpenAI-style messages; the answer is the last assistant message. API and
network failures exit 0 as an assistant message `Sorry, I encountered an error: Grok API
error: <status> <message>`, classified by the status number.
"""

from __future__ import annotations

from collections.abc import Mapping

from multi_model.models import Invocation, Parsed, Request, RunOutput
from multi_model.providers.base import AuthHints, CliProvider, model_arg
from multi_model.providers.parse import as_str, compile_rules, failure, json_lines

ERROR_PREFIX = "Sorry, I encountered an error: "
MAX_ROUNDS = "Maximum tool execution rounds reached. Stopping to prevent infinite loops."
NO_CONTENT = "I understand, but I don't have a specific response."


class Grok(CliProvider):
    name = "grok"
    executables = ("grok",)
    env_allow = ("GROK_*", "XAI_API_KEY")
    rules = compile_rules(
        (r"Grok API error: 40[13]\b", "auth_required"),
        (r"Grok API error: 404\b", "model_not_found"),
        (r"Grok API error: 429\b", "rate_limited"),
        (r"Grok API error: 5\d\d\b", "server_error"),
        (r"Grok API error: (Connection error|Request timed out)", "network"),
    )
    auth = AuthHints(env=("GROK_API_KEY", "XAI_API_KEY"), files=(".grok/user-settings.json",))
    catalog = ("grok-code-fast-1", "grok-4-latest", "grok-4-1-fast-reasoning", "grok-3-mini")
    rate_bucket = "xai"  # xAI API key
    install_hint = "npm install -g @vibe-kit/grok-cli"
    login_hint = "export GROK_API_KEY=<key from console.x.ai>"
    no_resume = "grok keeps no sessions"
    read_only = False

    def build(self, req: Request, env: Mapping[str, str], executable: str) -> Invocation:
        child_env = dict(env)
        if not child_env.get("GROK_API_KEY") and child_env.get("XAI_API_KEY"):
            child_env["GROK_API_KEY"] = child_env["XAI_API_KEY"]
        argv = [
            executable,
            *model_arg("--model", req.model),
            *req.extra_args,
            f"--prompt={req.prompt}",
        ]
        return Invocation(argv=tuple(argv), env=child_env, cwd=req.cwd)

    def parse(self, out: RunOutput) -> Parsed:
        answers = [m for m in json_lines(out.stdout) if m.get("role") == "assistant"]
        content = as_str(answers[-1].get("content")) if answers else None
        if content is None:
            if out.exit_code not in (0, None):
                return self.exit_failure(out)
            said = [
                line
                for line in f"{out.stdout}\n{out.stderr}".splitlines()
                if line.strip() and not line.lstrip().startswith("{")
            ]
            return self.no_answer(out, "assistant message", said="\n".join(said[-5:]))
        if content.startswith(ERROR_PREFIX):
            return failure(content[len(ERROR_PREFIX) :], self.rules)
        if out.exit_code not in (0, None) and content.startswith("Error: "):
            return failure(content, self.rules)
        if content == MAX_ROUNDS:
            return Parsed(
                status="empty_output", error="grok stopped at its tool-round limit before answering"
            )
        if content == NO_CONTENT:
            return Parsed(status="empty_output", error="the model returned no text")
        return Parsed(text=content)
