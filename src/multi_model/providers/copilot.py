"""GitHub Copilot CLI: `copilot --output-format json`, prompt on stdin (no `-p`).

Verified on 1.0.102: with `-p` omitted and a prompt piped in, copilot runs headless (its own
error says "provide a prompt with -p or via standard in"), so prompts have no argv size limit.
Read-only: `--deny-tool=write --deny-tool=shell` (denial rules beat any allow rule); writes use
`--allow-all-tools` instead. Output is JSONL: the answer is the last `assistant.message` with
content, the terminal error `session.error` (its errorType / statusCode are mapped before the
text rules), the session id the final `result` event's `sessionId`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from multi_model.models import Invocation, Parsed, Request, RunOutput, Status
from multi_model.providers.base import AuthHints, CliProvider, model_arg
from multi_model.providers.parse import as_int, as_str, dig, failure, http_class, json_lines

ERROR_TYPES: dict[str, Status] = {"authentication": "auth_required", "rate_limit": "rate_limited"}


@dataclass
class _Seen:
    """What a copilot JSONL stream said."""

    text: str | None = None
    model: str | None = None
    session: str | None = None
    error: dict[str, object] | None = None


def _scan(stdout: str) -> _Seen:
    """Walk the events once; later events win."""
    seen = _Seen()
    for event in json_lines(stdout):
        kind, data = event.get("type"), event.get("data")
        if kind == "assistant.message" and as_str(dig(data, "content")):
            seen.text = as_str(dig(data, "content"))
            seen.model = as_str(dig(data, "model")) or seen.model
        elif kind == "model.call_final_result":
            seen.model = seen.model or as_str(dig(data, "model"))
        elif kind == "session.error" and isinstance(data, dict):
            seen.error = data
        elif kind == "result":
            seen.session = as_str(event.get("sessionId"))
    return seen


class Copilot(CliProvider):
    name = "copilot"
    executables = ("copilot",)
    env_allow = ("COPILOT_*", "GH_TOKEN", "GITHUB_TOKEN", "GH_HOST")
    rules = (
        # A dropped connection ends in the native client's transport error (checked on 1.0.102):
        # "... Last error: Failed native model HTTP request: error sending request for url (...):
        # client error (SendRequest): connection closed before message completed", no statusCode.
        (
            re.compile(
                r"network fetch failed|error sending request for url"
                r"|connection closed before message completed",
                re.IGNORECASE,
            ),
            "network",
        ),
        (
            re.compile(
                r"token found but could not be validated|classic personal access tokens",
                re.IGNORECASE,
            ),
            "auth_required",
        ),
    )
    # No login file to check: ~/.copilot/config.json is written on first run even when logged
    # out, and the OAuth token normally lives in the system keychain. COPILOT_PROVIDER_BASE_URL
    # (BYOK) needs no GitHub login at all.
    auth = AuthHints(
        env=("COPILOT_GITHUB_TOKEN", "GH_TOKEN", "GITHUB_TOKEN", "COPILOT_PROVIDER_BASE_URL")
    )
    catalog = ("auto", "gpt-5.5", "gpt-5.4", "gpt-5.3-codex", "gemini-3.8-flash", "grok-4.7")
    rate_bucket = "github-copilot"  # GitHub Copilot (premium requests)
    seat_rank = 3
    install_hint = "npm install -g @github/copilot"
    login_hint = "copilot login (or set COPILOT_GITHUB_TOKEN)"
    resume_flag = "--resume="  # a bare --resume opens a picker

    def build(self, req: Request, env: Mapping[str, str], executable: str) -> Invocation:
        argv = [
            executable,
            "--output-format",
            "json",
            "--no-auto-update",
            "--no-ask-user",
            *model_arg("--model", req.model),
        ]
        argv += (
            ["--allow-all-tools"]
            if req.allow_writes
            else ["--deny-tool=write", "--deny-tool=shell"]
        )
        argv += [*self.resume_args(req), *req.extra_args]
        return Invocation(argv=tuple(argv), env=env, stdin=req.prompt, cwd=req.cwd)

    def parse(self, out: RunOutput) -> Parsed:
        seen = _scan(out.stdout)
        if seen.error is not None:
            return replace(
                self._session_error(seen.error), session_id=seen.session, model_reported=seen.model
            )
        if seen.text is not None:
            return Parsed(text=seen.text, session_id=seen.session, model_reported=seen.model)
        if out.exit_code != 0:
            return replace(self.exit_failure(out), session_id=seen.session)
        return replace(self.no_answer(out, "assistant.message"), session_id=seen.session)

    def _session_error(self, data: dict[str, object]) -> Parsed:
        kind = as_str(data.get("errorType"))
        message = as_str(data.get("message")) or f"copilot session error ({kind or 'unknown'})"
        status = ERROR_TYPES.get(kind or "") or http_class(as_int(data.get("statusCode")))
        return failure(message, self.rules, status=status)
