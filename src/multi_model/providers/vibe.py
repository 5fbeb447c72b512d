"""Mistral Vibe: `vibe --prompt-file FILE --output json --agent ask`; model via env.

The prompt goes in a file (`--prompt-file`; the runner writes a 0600 temp file), not stdin,
whose handling differs between vibe releases. Read-only is the `ask` agent (verified on 3.0.2
to block the write tool; the default agent writes); writes allowed: `accept-edits`.
The model is a vibe model alias from its config, chosen with `VIBE_ACTIVE_MODEL` (vibe maps
`VIBE_*` onto config fields). No `--trust`: an untrusted project's own vibe config is not
loaded, which is the safer default; add it through `[providers.vibe] args` if wanted.

Output (`--output json`) is one JSON array of session entries; the answer is the text of the
last assistant `message`, `sessionId` is on every entry (`--output streaming` JSONL is read
too). Failures print nothing on stdout: only `Error: ...` on stderr and exit 1 or 2.
Not runnable here (needs Python >= 3.12): built and tested from recorded 3.0.2 output.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from multi_model.models import PROMPT_FILE, Invocation, Parsed, Request, RunOutput
from multi_model.providers.base import AuthHints, CliProvider, Serves
from multi_model.providers.families import MISTRAL
from multi_model.providers.parse import (
    as_str,
    compile_rules,
    failure,
    json_document,
    json_lines,
    stderr_tail,
    unreadable_json,
)


class Vibe(CliProvider):
    name = "vibe"
    executables = ("vibe",)
    env_allow = ("MISTRAL_*", "VIBE_*")
    rules = compile_rules(
        (r"Client error '40[13]\b", "auth_required"),
        (r"Client error '404\b", "model_not_found"),
        (r"Client error '429\b", "rate_limited"),
        (r"Server error '5\d\d\b", "server_error"),
        (r"\[Errno -[235]\]|temporary failure in name resolution", "network"),
    )
    auth = AuthHints(env=("MISTRAL_API_KEY",), files=(".vibe/.env",))
    catalog = ("devstral-2", "devstral-latest", "devstral-small")
    rate_bucket = "mistral"  # Mistral (API key or Le Chat plan)
    routes = (Serves(MISTRAL),)
    seat_rank = 6
    install_hint = "uv tool install mistral-vibe  (Python >= 3.12)"
    login_hint = "export MISTRAL_API_KEY=<key>, or run `vibe` once to set it up"
    resume_flag = "--resume"

    def build(self, req: Request, env: Mapping[str, str], executable: str) -> Invocation:
        child_env = dict(env)
        if req.model:
            child_env["VIBE_ACTIVE_MODEL"] = req.model
        argv = (
            executable,
            "--prompt-file",
            PROMPT_FILE,
            "--output",
            "json",
            "--agent",
            "accept-edits" if req.allow_writes else "ask",
            *self.resume_args(req),
            *req.extra_args,
        )
        return Invocation(argv=argv, env=child_env, cwd=req.cwd, prompt_file=req.prompt)

    def parse(self, out: RunOutput) -> Parsed:
        entries = _entries(out.stdout)
        session = next((s for e in entries or () if (s := as_str(e.get("sessionId")))), None)
        answers = [
            e for e in entries or () if e.get("type") == "message" and e.get("role") == "assistant"
        ]
        if answers:
            return Parsed(text=_text(answers[-1].get("content")), session_id=session)
        error = _terminal_error(out.stderr)
        if error:
            return replace(failure(error, self.rules), session_id=session)
        if out.exit_code not in (0, None):
            return self.exit_failure(out)
        garbage = entries is None
        said = stderr_tail(f"{out.stdout if garbage else ''}\n{out.stderr}", 5)
        return replace(
            self.no_answer(out, "assistant message", said=said, garbage=garbage), session_id=session
        )


def _entries(stdout: str) -> list[dict[str, object]] | None:
    """The session entries (objects with a `type`): the `--output json` array, else
    `--output streaming` lines; None when stdout has text but no entry at all."""
    doc = json_document(stdout)
    found = doc if isinstance(doc, list) else list(json_lines(stdout))
    entries = [e for e in found if isinstance(e, dict) and isinstance(e.get("type"), str)]
    if isinstance(doc, list):
        return entries if entries or not doc else None  # `[]`: a session with nothing in it
    return entries if not unreadable_json(stdout) and (entries or not stdout.strip()) else None


def _text(content: object) -> str:
    """Text parts of a message, concatenated exactly (content may also be a plain string)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    parts = [p for p in content if isinstance(p, dict) and p.get("type") == "text"]
    return "".join(p["text"] for p in parts if isinstance(p.get("text"), str))


def _terminal_error(stderr: str) -> str | None:
    """From the last line starting `Error:` to the end (httpx errors continue on a 2nd line)."""
    lines = stderr.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Error:")]
    return "\n".join(lines[starts[-1] :]).strip() if starts else None
