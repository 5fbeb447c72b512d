"""Antigravity CLI (`agy`, Google's successor to gemini-cli for Google-account users).

Written from documentation and issue reports; the binary cannot be installed here.

argv: `agy --print-timeout <N>s [--model=M] --mode plan|accept-edits [extra] --print <text>`.
The prompt is an **argv value** because that is the one delivery every agy version accepts:
`--print` takes the task as its value and must come last (a flag after it is read as the
task), and piped stdin delivers no task on the versions probed (stdin is /dev/null, which
also avoids a documented hang and lost stdout on a non-TTY stdin). The cost: a prompt over
Linux's 128 KiB per-argument limit fails to spawn (E2BIG), which the pipeline reports as
`oversize`. `--print-timeout` is a Go duration and needs a unit.

Read-only: `--mode plan` unless writes are allowed (`--mode accept-edits`); never
`--dangerously-skip-permissions`. Reported caveat: agy before 1.1.12 ignored `--mode` in print
mode, and in 1.1.13 plan mode blocked the edit tools but not a shell command that writes.
The task is prefixed with a directive to answer inline and use no tools, because agy may
otherwise write its answer to an artifact and print only a stub.

Output is plain text: stdout is the answer, as is. agy can exit 0 on failures (the quota
refusal `Error: Individual quota reached ... Resets in 37h50m21s.` is instant and
account-wide), so a short stdout that starts like an agy error is classified, not returned.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import replace

from multi_model.models import Invocation, Parsed, Request, RunOutput
from multi_model.providers.base import AuthHints, CliProvider, Serves, model_arg
from multi_model.providers.families import GEMINI
from multi_model.providers.parse import failure, stderr_tail

READ_ONLY_DIRECTIVE = (
    "Answer directly in this reply as plain text. Do not create or edit files, "
    "do not write artifacts, do not use tools."
)
WRITE_DIRECTIVE = (
    "Give your complete answer directly in this reply as plain text, not in an artifact or a file."
)
_ERROR_START = re.compile(r"(Error:|Agent execution terminated|Individual quota reached)")
_LOGIN_NAG = re.compile(
    r"(?i)not logged into antigravity|not (signed|logged) in|please sign in"
    r"|auth timed out|silent auth failed"
)
_NO_TTY = re.compile(r"(?i)could not open (a )?TTY|open /dev/tty")
_TTY_HINT = (
    "agy wanted an interactive terminal (a sign-in or folder-trust screen); run `agy` "
    "once in a terminal in this folder"
)


class Agy(CliProvider):
    name = "agy"
    executables = ("agy",)
    # Keyring access: D-Bus on Linux; agy crashes on Windows without USERPROFILE.
    env_allow = (
        "AGY_*",
        "ANTIGRAVITY_*",
        "DBUS_SESSION_BUS_ADDRESS",
        "USERPROFILE",
        "APPDATA",
        "LOCALAPPDATA",
    )
    rules = (
        (re.compile(r"(?i)quota reached|upgrade your subscription"), "rate_limited"),
        (_LOGIN_NAG, "auth_required"),
    )
    # Logins live in the system keyring, which detection cannot see: with no env or file
    # hints, detection reports "unknown" rather than a false "logged_out".
    auth = AuthHints()
    models_probe = ("models",)
    catalog = (
        "gemini-3.7-flash-high",
        "gemini-3.7-flash-medium",
        "gemini-3.1-pro-high",
        "claude-sonnet-4-6",
    )
    rate_bucket = "google"  # Google Antigravity (Google account quota)
    routes = (Serves(GEMINI),)
    seat_rank = 1
    install_hint = "the Antigravity CLI installer from https://antigravity.google"
    login_hint = "run `agy` once in a terminal and sign in with Google"
    no_resume = (
        "agy --print does not report the id of its conversation, so a later call "
        "cannot name it (`--conversation ID` needs one)"
    )

    structured = False  # print mode is plain text (a JSON mode exists in newer, unverified builds)

    def build(self, req: Request, env: Mapping[str, str], executable: str) -> Invocation:
        # A little past our own deadline: agy's default (5 min) must not cut a longer run short,
        # and our process-group timeout, not agy's, decides, so the status is always `timeout`.
        argv = [executable, "--print-timeout", f"{math.ceil(req.timeout) + 5}s"]
        argv += [
            *model_arg("--model", req.model),
            "--mode",
            "accept-edits" if req.allow_writes else "plan",
            *req.extra_args,
        ]
        directive = WRITE_DIRECTIVE if req.allow_writes else READ_ONLY_DIRECTIVE
        argv += ["--print", f"{directive}\n\n{req.prompt}"]
        return Invocation(argv=tuple(argv), env=env, stdin=None, cwd=req.cwd)

    def parse(self, out: RunOutput) -> Parsed:
        if _is_short(out.stdout) and _LOGIN_NAG.search(out.stdout):
            return self.login_nag(out.stdout)  # a sign-in request is never the answer
        if _is_error_line(out.stdout):
            return failure(out.stdout, self.rules)
        if out.exit_code != 0:
            return _with_tty_hint(self.exit_failure(out))
        if out.stdout.strip():
            return Parsed(text=out.stdout)
        return self._silent(out)

    def _silent(self, out: RunOutput) -> Parsed:
        """Exit 0 with no answer: a quota refusal, a login nag, or nothing at all."""
        said = stderr_tail(out.stderr)
        if not said:
            return Parsed(status="empty_output", error="agy exited 0 and printed no answer")
        parsed = failure(said, self.rules)
        if parsed.status == "rate_limited":
            return parsed
        if parsed.status == "auth_required":
            return self.login_nag(f"agy printed no answer and asks for a sign-in: {parsed.error}")
        return _with_tty_hint(replace(parsed, status="empty_output"))

    def parse_models(self, out: RunOutput) -> list[str]:
        """Ids from `agy models`: `id<TAB>label` rows (1.1+), or one bare id per line (older).
        A status line such as `Fetching available models...` is never an id."""
        lines = [line.strip() for line in out.stdout.splitlines() if line.strip()]
        if any("\t" in line for line in lines):
            return [line.split("\t", 1)[0].strip() for line in lines if "\t" in line]
        ids = [re.sub(r"\s*\(current\)$", "", line) for line in lines]
        return [i for i in ids if re.fullmatch(r"[\w.:/@-]+", i)]


def _is_short(stdout: str) -> bool:
    """A stdout of at most three short lines: the size of an agy notice, not of an answer."""
    text = stdout.strip()
    return bool(text) and len(text) <= 600 and text.count("\n") <= 2


def _is_error_line(stdout: str) -> bool:
    """True for a short stdout that starts like an agy error rather than an answer."""
    return _is_short(stdout) and _ERROR_START.match(stdout.strip()) is not None


def _with_tty_hint(parsed: Parsed) -> Parsed:
    if parsed.error and _NO_TTY.search(parsed.error):
        return replace(parsed, error=f"{_TTY_HINT}: {parsed.error}")
    return parsed
