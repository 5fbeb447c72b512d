"""The provider interface: the classes adapters derive from, the data each declares (rate
bucket, routes, catalog), and the environment allowlist.

An adapter builds an `Invocation` (or `HttpCall`) from a `Request` and reads a `RunOutput`
(or `HttpReply`) back into `Parsed`. It never starts a process and does no I/O: the runner
does that, and detection (`multi_model.detect`) evaluates the declarative auth hints. The
reading helpers (classifier, JSON lines, usage) are in `providers.parse`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal, Protocol

from multi_model.models import HttpCall, HttpReply, Invocation, Parsed, Request, RunOutput, Status
from multi_model.providers.parse import (
    ANSI_RE,
    ERROR_LINE,
    Rule,
    classify,
    failure,
    one_paragraph,
    stderr_tail,
)

__all__ = [
    "ANSI_RE",
    "AuthHints",
    "AuthState",
    "Builtin",
    "CliProvider",
    "Family",
    "HttpProvider",
    "InProcessProvider",
    "Provider",
    "ProviderInfo",
    "Rule",
    "Serves",
    "child_env",
    "env_matches",
    "model_arg",
]

# Variables every CLI may see: process basics, locale, proxies and CA bundles, XDG dirs.
BASE_ENV_ALLOW: tuple[str, ...] = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "LC_*",
    "TZ",
    "TMPDIR",
    "TERM",
    "NO_COLOR",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
    "XDG_RUNTIME_DIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "NODE_OPTIONS",
    "SYSTEMROOT",
)


def model_arg(flag: str, model: str | None) -> list[str]:
    """argv for a model id: `[flag=model]` as one word (the value can never read as a flag
    of its own, whatever slipped past `Request`'s check), or [] for the CLI's default."""
    return [f"{flag}={model}"] if model else []


def env_matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(name == p or (p.endswith("*") and name.startswith(p[:-1])) for p in patterns)


def child_env(
    parent: Mapping[str, str],
    allow: tuple[str, ...],
    deny: tuple[str, ...] = (),
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The child's environment: parent vars on the base or provider allowlist, minus `deny`
    (an exact name in `allow` beats a deny pattern: deny `X_*`, keep `X_TOKEN`)."""
    patterns = (*BASE_ENV_ALLOW, *allow)
    exact = {p for p in allow if not p.endswith("*")}
    env = {
        k: v
        for k, v in parent.items()
        if env_matches(k, patterns) and (k in exact or not env_matches(k, deny))
    }
    env.update(extra or {})
    return env


VERSION_RE = re.compile(r"\b(\d+\.\d+(?:\.\d+)?(?:[-+.][0-9A-Za-z.-]+)?)")

AuthState = Literal["logged_in", "logged_out", "unknown"]


@dataclass(frozen=True)
class Family:
    """A family of model ids, as a route pattern (whole name, case-insensitive): a bare id
    that matches goes to the providers that serve the family."""

    match: str


@dataclass(frozen=True)
class Serves:
    """A provider's place in a family's route: lower `rank` is asked first (the vendor's own
    CLI 0, a CLI that resells many vendors' models 1); equal ranks keep registry order."""

    family: Family
    rank: int = 0


@dataclass(frozen=True)
class AuthHints:
    """Cheap, declarative signs of a login, checked by detection without starting anything.

    `env`: any of these set means credentials are configured; `files`: any of these (relative
    to HOME) existing means a stored login; `probe`: argv tail of a bounded status command
    that makes no model call (its output goes to `CliProvider.parse_auth`).
    """

    env: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    probe: tuple[str, ...] | None = None


class ProviderInfo:
    """What every kind of provider declares: its name, failure rules, model catalog, rate
    bucket, routes, hints for the user, and whether it has a read-only mode."""

    name: str
    rules: ClassVar[tuple[Rule, ...]] = ()
    catalog: ClassVar[tuple[str, ...]] = ()
    """Models it offers, its preferred ones first (`mm models` without a live listing, a
    family's model for failover)."""
    rate_bucket: ClassVar[str] = ""
    """The quota it draws on: providers with the same bucket share one limit."""
    routes: ClassVar[tuple[Serves, ...]] = ()
    """The model families whose bare ids it answers (`routing.DEFAULT_ROUTES`)."""
    seat_rank: ClassVar[int | None] = None
    """Its bucket's place among the default council seats (most common plans first); None:
    never a default seat (needs an opt-in, cannot run read-only, or needs a model named)."""
    install_hint: ClassVar[str] = ""
    login_hint: ClassVar[str] = ""
    read_only: ClassVar[bool] = True
    """False for providers with no read-only headless mode: they run only when writes are
    allowed."""
    resume_flag: ClassVar[str | None] = None
    """The CLI flag that continues a conversation by its session id (`--session`); None: the
    provider cannot, and `no_resume` says why."""
    no_resume: ClassVar[str] = "it keeps no conversation a later call can continue"

    def resume_args(self, req: Request) -> list[str]:
        """argv for `req.resume`: `--flag ID`, or `--flag=ID` for a flag ending in '='."""
        if not req.resume:
            return []
        if self.resume_flag is None:
            raise ValueError(f"{self.name} cannot resume a session: {self.no_resume}")
        if self.resume_flag.endswith("="):
            return [f"{self.resume_flag}{req.resume}"]
        return [self.resume_flag, req.resume]


class CliProvider(ProviderInfo):
    """Base for adapters of command-line tools. Subclasses set the class data and
    implement `build` and `parse`; everything here is pure."""

    executables: ClassVar[tuple[str, ...]]
    env_allow: ClassVar[tuple[str, ...]] = ()
    env_deny: ClassVar[tuple[str, ...]] = ()
    auth: ClassVar[AuthHints] = AuthHints()
    models_probe: ClassVar[tuple[str, ...] | None] = None
    structured: ClassVar[bool] = True
    """False for CLIs that print only plain text: any stdout then counts as the answer."""

    def build(self, req: Request, env: Mapping[str, str], executable: str) -> Invocation:
        raise NotImplementedError

    def parse(self, out: RunOutput) -> Parsed:
        raise NotImplementedError

    def env_for(
        self,
        parent: Mapping[str, str],
        extra_allow: tuple[str, ...] = (),
        extra: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        return child_env(parent, (*self.env_allow, *extra_allow), self.env_deny, extra)

    def parse_version(self, text: str) -> str | None:
        match = VERSION_RE.search(text)
        return match.group(1) if match else None

    def parse_auth(self, out: RunOutput) -> AuthState:
        """Reading of the `auth.probe` command: exit 0 means logged in unless it says otherwise."""
        if out.timed_out or out.spawn_error or out.exit_code is None:
            return "unknown"
        text = f"{out.stdout}\n{out.stderr}"
        if re.search(r"not (logged|signed) in|logged out|unauthenticated|no auth", text, re.I):
            return "logged_out"
        return "logged_in" if out.exit_code == 0 else "logged_out"

    def parse_models(self, out: RunOutput) -> list[str]:
        """Model ids from the `models_probe` command: one id per line, first column."""
        ids = []
        for line in out.stdout.splitlines():
            word = line.strip().split(" ")[0].strip("-*•")
            if word and re.fullmatch(r"[\w.:/@-]+", word) and not word.endswith(":"):
                ids.append(word)
        return ids

    def no_answer(
        self, out: RunOutput, what: str, said: str | None = None, garbage: bool | None = None
    ) -> Parsed:
        """Exit 0 without an answer. A login nag in what the CLI `said` (default: the tail of
        stderr, else stdout's plain lines) is auth_required with the login hint; else bad_output
        when stdout held something unparseable (`garbage`), else empty_output."""
        if said is None:
            plain = [x for x in out.stdout.splitlines() if not x.lstrip().startswith(("{", "["))]
            said = stderr_tail(out.stderr) or stderr_tail("\n".join(plain))
        if (said := said.strip()) and classify(said, self.rules) == "auth_required":
            return self.login_nag(said)
        garbage = bool(out.stdout.strip()) if garbage is None else garbage
        detail = f" ({said.splitlines()[-1][:200]})" if said else ""
        return Parsed(
            status="bad_output" if garbage else "empty_output",
            error=f"no {what} in {self.name} output{detail}",
        )

    def login_nag(self, said: str) -> Parsed:
        """auth_required for a CLI that asked for a login instead of answering."""
        return Parsed(
            status="auth_required", error=f"{one_paragraph(said)} (log in: {self.login_hint})"
        )

    def exit_failure(self, out: RunOutput, default: Status = "crashed") -> Parsed:
        """Classify a run that failed without a structured error, from stderr then stdout;
        from the last `Error:` line on when there is one (progress notes come before it)."""
        text = stderr_tail(out.stderr) or stderr_tail(out.stdout)
        if not text:
            return Parsed(status=default, error=f"exit {out.exit_code} with no output")
        starts = [m.start() for m in ERROR_LINE.finditer(text)]
        return failure(text[starts[-1] :] if starts else text, self.rules, default)


class HttpProvider(ProviderInfo):
    """Base for adapters of HTTP APIs (no process; `httpcall.fetch` does the request)."""

    no_resume = "a model server keeps no conversation; a session needs a CLI that stores one"

    def preflight(self, req: Request, env: Mapping[str, str]) -> Parsed | None:
        """A failure known before any request (no model named, key variable unset), else None."""
        return None

    def build_http(self, req: Request, env: Mapping[str, str]) -> HttpCall:
        raise NotImplementedError

    def parse_http(self, reply: HttpReply) -> Parsed:
        raise NotImplementedError

    def models_call(self, env: Mapping[str, str]) -> HttpCall:
        raise NotImplementedError

    def parse_models_reply(self, reply: HttpReply) -> list[str]:
        raise NotImplementedError

    def base_url(self, env: Mapping[str, str]) -> str:
        raise NotImplementedError


class InProcessProvider(ProviderInfo):
    """Base for providers answered inside this process: scripted test doubles and plugins
    registered with `providers.register`. `answer` may raise; the fan-out records it."""

    def answer(self, req: Request) -> Parsed:
        raise NotImplementedError


Provider = CliProvider | HttpProvider | InProcessProvider


class Builtin(Protocol):
    """What the registry reads from a built-in provider class, all of it class data (the
    registry key is its `name`)."""

    rate_bucket: ClassVar[str]
    routes: ClassVar[tuple[Serves, ...]]
    catalog: ClassVar[tuple[str, ...]]
    seat_rank: ClassVar[int | None]
    read_only: ClassVar[bool]
