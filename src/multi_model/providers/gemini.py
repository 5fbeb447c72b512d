"""Google Gemini CLI: `gemini -p "" -o json`, prompt on stdin, approval mode `default`.

Prompt: with `-p ""` the CLI sends exactly the stdin text as the user message (verified on
0.61.0; it appends `-p` to stdin after a blank line, and an empty `-p` adds nothing). It reads
at most 8 MiB of stdin and says `stdin input truncated` on stderr beyond that: `oversize`.

Read-only: headless `--approval-mode default` declares no write or shell tools (verified:
the request's tools were glob, grep_search, list_directory, read_file, google_web_search...);
`auto_edit` adds write_file and replace. The flag is always passed so that a user's yolo
default cannot apply. `--sandbox` is never used: it needs Docker and is not a read-only switch.

Output (`-o json`): one object `{session_id, response, stats}` on stdout. Failures put
`{session_id, error: {type, message, code}}` at the end of stderr after stack traces; the
exit code is 41 for auth setup, 55 for an untrusted folder, else 1 or the HTTP status mod 256.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace

from multi_model.models import Invocation, Parsed, Request, RunOutput, Status, Usage
from multi_model.providers.base import AuthHints, CliProvider, Serves, model_arg
from multi_model.providers.families import GEMINI
from multi_model.providers.parse import ANSI_RE, as_int, as_str, dig, failure, json_document

EXIT_AUTH = 41
EXIT_UNTRUSTED = 55
_TRUNCATED = "stdin input truncated"


def prompt_cut(out: RunOutput, name: str) -> Parsed | None:
    """gemini (and its fork qwen) cut stdin at 8 MiB and only warn on stderr."""
    if _TRUNCATED in out.stderr:
        return Parsed(status="oversize", error=f"{name} cut the prompt at its 8 MiB stdin limit")
    return None


class Gemini(CliProvider):
    name = "gemini"
    executables = ("gemini",)
    env_allow = ("GEMINI_*", "GOOGLE_*")
    rules = (
        (
            re.compile(
                r"(?i)Manual authorization is required|FatalAuthenticationError|IneligibleTier"
                r"|Invalid auth method selected|Cached credentials are not valid"
            ),
            "auth_required",
        ),
    )
    auth = AuthHints(
        env=(
            "GEMINI_API_KEY",
            "GOOGLE_API_KEY",
            "GOOGLE_GENAI_USE_VERTEXAI",
            "GOOGLE_GENAI_USE_GCA",
            "GOOGLE_APPLICATION_CREDENTIALS",
        ),
        files=(".gemini/oauth_creds.json", ".gemini/gemini-credentials.json"),
    )
    catalog = (
        "gemini-3.1-pro-preview",
        "gemini-3-flash-preview",
        "gemini-2.5-pro",
        "gemini-2.5-flash",
        "gemini-2.5-flash-lite",
    )
    rate_bucket = "google"  # Google (Gemini API key, Google login or Vertex AI)
    routes = (Serves(GEMINI),)
    seat_rank = 1
    install_hint = "npm install -g @google/gemini-cli"
    login_hint = "run `gemini` once in a terminal and pick a login, or set GEMINI_API_KEY"
    resume_flag = "--resume"  # takes "latest", an index, or (verified on 0.61) a session id

    def build(self, req: Request, env: Mapping[str, str], executable: str) -> Invocation:
        argv = [
            executable,
            "-p",
            "",
            "-o",
            "json",
            "--approval-mode",
            "auto_edit" if req.allow_writes else "default",
        ]
        argv += [*model_arg("--model", req.model), *self.resume_args(req), *req.extra_args]
        # Headless runs in an untrusted folder exit 55; the env var works on every version,
        # unlike --skip-trust, which some versions lack.
        child = {**env, "GEMINI_CLI_TRUST_WORKSPACE": "true"}
        return Invocation(argv=tuple(argv), env=child, stdin=req.prompt, cwd=req.cwd)

    def parse(self, out: RunOutput) -> Parsed:
        cut = prompt_cut(out, "gemini")
        if cut:
            return cut
        doc = json_document(out.stdout)
        session = as_str(dig(doc, "session_id"))
        response = dig(doc, "response")
        if isinstance(response, str) and out.exit_code == 0:
            models = dig(doc, "stats", "models")
            return Parsed(
                text=response,
                session_id=session,
                usage=_usage(models),
                model_reported=_main_model(models),
            )
        error = _stderr_error(out.stderr)
        if error is not None:
            message = as_str(dig(error, "error", "message")) or "gemini reported an error"
            code = as_int(dig(error, "error", "code"))
            parsed = failure(message, self.rules, _default_for(code, out.exit_code))
            return replace(parsed, session_id=as_str(error.get("session_id")) or session)
        if out.exit_code != 0:
            return self._exit_failure(out)
        return replace(self.no_answer(out, "`response`"), session_id=session)

    def _exit_failure(self, out: RunOutput) -> Parsed:
        parsed = self.exit_failure(out, _default_for(None, out.exit_code))
        return replace(parsed, error=ANSI_RE.sub("", parsed.error or "") or None)


def _default_for(code: int | None, exit_code: int | None) -> Status:
    """Exit/error code 41 means the auth setup is missing or unusable."""
    return "auth_required" if EXIT_AUTH in (code, exit_code) else "crashed"


def _stderr_error(stderr: str) -> dict[str, object] | None:
    """The last `{..., "error": {...}}` object in stderr (it follows the stack traces)."""
    decoder = json.JSONDecoder()
    starts = [m.start() for m in re.finditer(r"(?m)^\{", stderr)]
    for start in reversed(starts):
        try:
            value, _ = decoder.raw_decode(stderr, start)
        except (ValueError, RecursionError):  # RecursionError: nested too deeply to read
            continue
        if isinstance(value, dict) and isinstance(value.get("error"), dict):
            return value
    return None


def _main_model(models: object) -> str | None:
    """The model that answered: the one with the `main` role, else most candidate tokens."""
    if not isinstance(models, dict) or not models:
        return None
    for name, data in models.items():
        if isinstance(dig(data, "roles", "main"), dict):
            return str(name)
    return str(max(models, key=lambda n: as_int(dig(models[n], "tokens", "candidates")) or 0))


def _usage(models: object) -> Usage | None:
    """Token counts summed over every model the run used (the router's call included)."""
    if not isinstance(models, dict):
        return None
    keys = {
        "input_tokens": "prompt",
        "cached_input_tokens": "cached",
        "output_tokens": "candidates",
        "reasoning_tokens": "thoughts",
        "total_tokens": "total",
    }
    sums: dict[str, int | None] = dict.fromkeys(keys)
    for data in models.values():
        for field, key in keys.items():
            value = as_int(dig(data, "tokens", key))
            if value is not None:
                sums[field] = (sums[field] or 0) + value
    usage = Usage(**sums)
    return usage if any(v is not None for v in sums.values()) else None
