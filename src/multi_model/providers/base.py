"""The provider interface and the pure helpers adapters share.

An adapter builds an `Invocation` (or `HttpCall`) from a `Request` and reads a `RunOutput`
(or `HttpReply`) back into `Parsed`. It never starts a process and does no I/O: the runner
does that, and detection (`multi_model.detect`) evaluates the declarative auth hints.

Classification: each adapter finds the run's *terminal* error text (where its CLI puts it) and
passes it to `classify`, which applies the adapter's own rules first and then the common
table below. Earlier warnings are never classified (codex's "Model metadata ... not found"
would read as model_not_found).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal

from multi_model.models import (
    HttpCall,
    HttpReply,
    Invocation,
    Parsed,
    Request,
    RunOutput,
    Status,
    Usage,
)

Rule = tuple["re.Pattern[str]", Status]

# Variables every CLI may see: process basics, locale, proxies and CA bundles, XDG dirs.
BASE_ENV_ALLOW: tuple[str, ...] = (
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "LC_*", "TZ", "TMPDIR",
    "TERM", "NO_COLOR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME",
    "XDG_RUNTIME_DIR", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "http_proxy",
    "https_proxy", "no_proxy", "all_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE", "NODE_EXTRA_CA_CERTS", "NODE_OPTIONS", "SYSTEMROOT",
)


def compile_rules(*pairs: tuple[str, Status]) -> tuple[Rule, ...]:
    return tuple((re.compile(p, re.IGNORECASE), s) for p, s in pairs)


COMMON_RULES: tuple[Rule, ...] = compile_rules(
    (r"prompt is too long|request entity too large|context (length|limit|window)"
     r"|tokens? exceeded|too many tokens|maximum context|input is too large", "oversize"),
    (r"\b401\b|unauthori[sz]ed|UNAUTHENTICATED|API key not valid|API_KEY_INVALID"
     r"|invalid api key|incorrect api key|api key required|missing (environment variable"
     r"|api key|bearer)|missing \w*API_KEY|no auth|not logged in|not authenticated"
     r"|(set an|invalid) auth method|authentication (failed|information|required)"
     r"|please (re)?login|login required|\b403\b|forbidden", "auth_required"),
    (r"\b429\b|rate.?limit|RESOURCE_EXHAUSTED|resource has been exhausted|quota"
     r"|too many requests|exhausted your capacity|usage limit", "rate_limited"),
    (r"\b404\b[^\n]*model|model(?! metadata)[^\n]*?(not found|does not exist|not available)"
     r"|is not found for API version|ModelNotFound|unknown model|invalid model"
     r"|no such model", "model_not_found"),
    (r"connection (error|failed|refused)|could not connect|unable to connect|fetch failed"
     r"|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|name (or service not known"
     r"|does not resolve)|failed to lookup address|stream disconnected"
     r"|all connection attempts failed|network", "network"),
    (r"\b50[0-4]\b|internal server error|high demand|overloaded|service unavailable"
     r"|bad gateway", "server_error"),
    (r"content.?filter|safety|recitation|policy violation", "refused"),
)


def classify(text: str, rules: tuple[Rule, ...] = (), default: Status = "crashed") -> Status:
    """First matching class for a terminal error text; `default` when nothing matches."""
    for pattern, status in (*rules, *COMMON_RULES):
        if pattern.search(text):
            return status
    return default


_ERROR_LINE = re.compile(r"^\W{0,3}error\b", re.IGNORECASE | re.MULTILINE)
HTTP_CLASSES: dict[int, Status] = {401: "auth_required", 403: "auth_required",
                                   404: "model_not_found", 408: "timeout", 413: "oversize",
                                   429: "rate_limited"}
ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def http_class(code: int | None) -> Status | None:
    """The failure class an HTTP status implies, or None when it says nothing specific."""
    if code is None:
        return None
    return HTTP_CLASSES.get(code) or ("server_error" if code >= 500 else None)


_DURATION = re.compile(
    r"(\d+(?:\.\d+)?)\s*(days?|d|hours?|h|minutes?|min|ms|m|seconds?|sec|s)(?![a-z])",
    re.IGNORECASE)
_RESET_CONTEXT = re.compile(
    r"(?:resets? in|retry(?:ing)? (?:after|in)|try again in|wait|retry-after:?)\s*"
    r"((?:\d+(?:\.\d+)?\s*[a-z]*\s*)+)",
    re.IGNORECASE,
)


def parse_retry_after(text: str) -> float | None:
    """Seconds until a limit resets, from texts like 'Resets in 156h13m' or 'retry after 20s'."""
    match = _RESET_CONTEXT.search(text)
    if not match:
        return None
    chunk = match.group(1)
    parts = _DURATION.findall(chunk)
    if not parts:
        bare = re.match(r"\s*(\d+(?:\.\d+)?)", chunk)
        return float(bare.group(1)) if bare else None
    return sum(float(amount) * _unit_seconds(unit.lower()) for amount, unit in parts)


def _unit_seconds(unit: str) -> float:
    if unit == "ms":
        return 0.001
    return {"d": 86400.0, "h": 3600.0, "m": 60.0}.get(unit[0], 1.0)


def failure(text: str, rules: tuple[Rule, ...] = (), default: Status = "crashed",
            status: Status | None = None) -> Parsed:
    """A Parsed failure for a terminal error text, with the reset time for rate limits;
    `status` when the CLI already said which class it is (an HTTP code, an error type)."""
    status = status or classify(text, rules, default)
    retry = parse_retry_after(text) if status == "rate_limited" else None
    return Parsed(status=status, error=_one_paragraph(text), retry_after_s=retry)


def _one_paragraph(text: str, limit: int = 2000) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def stderr_tail(stderr: str, lines: int = 15, chars: int = 4000) -> str:
    """The last lines of stderr (at most `chars` characters), for error messages and the
    classifier: a 10 MiB line would otherwise cost the regexes seconds."""
    return "\n".join(stderr[-chars * 2:].strip().splitlines()[-lines:])[-chars:]


def _loads(text: str) -> object | None:
    """The JSON value of `text`; None when not JSON or nested too deeply (RecursionError)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def json_lines(text: str) -> Iterator[dict[str, object]]:
    """JSON objects from a JSONL stream; non-JSON lines (banners, warnings) are skipped."""
    for line in text.splitlines():
        line = line.strip()
        value = _loads(line) if line.startswith("{") else None
        if isinstance(value, dict):
            yield value


def json_document(text: str) -> object | None:
    """The JSON value in `text` (whole, or from the first '{' / '['), else None."""
    for start in (0, *(i for i in (text.find("{"), text.find("[")) if i > 0)):
        if (value := _loads(text[start:])) is not None:
            return value
    return None


def unreadable_json(text: str) -> bool:
    """True when a line that starts like a JSON object is not one (cut, or nested too deeply)."""
    lines = (line.strip() for line in text.splitlines())
    return any(line.startswith("{") and not isinstance(_loads(line), dict) for line in lines)


def result_event(stdout: str) -> dict[str, object] | None:
    """The last Claude-Code-shaped `{"type":"result"}` object (claude, cursor-agent), as one
    JSONL line or one pretty-printed document."""
    found = None
    for event in json_lines(stdout):
        if event.get("type") == "result":
            found = event
    if found is None:
        doc = json_document(stdout)
        found = doc if isinstance(doc, dict) and doc.get("type") == "result" else None
    return found


def dig(value: object, *path: str | int) -> object:
    """value[path0][path1]... or None when any step is missing."""
    for key in path:
        if isinstance(key, int) and isinstance(value, list) and -len(value) <= key < len(value):
            value = value[key]
        elif isinstance(key, str) and isinstance(value, dict):
            value = value.get(key)
        else:
            return None
    return value


def as_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def usage_from(
    data: object, *, input: str, output: str, cached: str | None = None,
    reasoning: str | None = None, total: str | None = None, cost: str | None = None,
) -> Usage | None:
    """A Usage from a dict of counters, naming the keys this CLI uses."""
    if not isinstance(data, dict):
        return None

    def num(key: str | None) -> int | None:
        return as_int(data.get(key)) if key else None

    usage = Usage(
        input_tokens=num(input), output_tokens=num(output), cached_input_tokens=num(cached),
        reasoning_tokens=num(reasoning), total_tokens=num(total),
        cost_usd=float(data[cost]) if cost and isinstance(data.get(cost), (int, float)) else None,
    )
    return usage if any(v is not None for v in usage.model_dump().values()) else None


def model_arg(flag: str, model: str | None) -> list[str]:
    """argv for a model id: `[flag=model]` as one word (the value can never read as a flag
    of its own, whatever slipped past `Request`'s check), or [] for the CLI's default."""
    return [f"{flag}={model}"] if model else []


def env_matches(name: str, patterns: tuple[str, ...]) -> bool:
    return any(name == p or (p.endswith("*") and name.startswith(p[:-1])) for p in patterns)


def child_env(
    parent: Mapping[str, str], allow: tuple[str, ...], deny: tuple[str, ...] = (),
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The child's environment: parent vars on the base or provider allowlist, minus `deny`
    (an exact name in `allow` beats a deny pattern: deny `X_*`, keep `X_TOKEN`)."""
    patterns = (*BASE_ENV_ALLOW, *allow)
    exact = {p for p in allow if not p.endswith("*")}
    env = {
        k: v for k, v in parent.items()
        if env_matches(k, patterns) and (k in exact or not env_matches(k, deny))
    }
    env.update(extra or {})
    return env


VERSION_RE = re.compile(r"\b(\d+\.\d+(?:\.\d+)?(?:[-+.][0-9A-Za-z.-]+)?)")

AuthState = Literal["logged_in", "logged_out", "unknown"]


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
    bucket, hints for the user, and whether it has a read-only mode."""

    name: str
    rules: ClassVar[tuple[Rule, ...]] = ()
    catalog: ClassVar[tuple[str, ...]] = ()
    rate_bucket: ClassVar[str] = ""
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

    def env_for(self, parent: Mapping[str, str], extra_allow: tuple[str, ...] = (),
                extra: Mapping[str, str] | None = None) -> dict[str, str]:
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

    def no_answer(self, out: RunOutput, what: str, said: str | None = None,
                  garbage: bool | None = None) -> Parsed:
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
        return Parsed(status="bad_output" if garbage else "empty_output",
                      error=f"no {what} in {self.name} output{detail}")

    def login_nag(self, said: str) -> Parsed:
        """auth_required for a CLI that asked for a login instead of answering."""
        return Parsed(status="auth_required",
                      error=f"{_one_paragraph(said)} (log in: {self.login_hint})")

    def exit_failure(self, out: RunOutput, default: Status = "crashed") -> Parsed:
        """Classify a run that failed without a structured error, from stderr then stdout;
        from the last `Error:` line on when there is one (progress notes come before it)."""
        text = stderr_tail(out.stderr) or stderr_tail(out.stdout)
        if not text:
            return Parsed(status=default, error=f"exit {out.exit_code} with no output")
        starts = [m.start() for m in _ERROR_LINE.finditer(text)]
        return failure(text[starts[-1]:] if starts else text, self.rules, default)


class HttpProvider(ProviderInfo):
    """Base for adapters of HTTP APIs (no process; the runner's `fetch` does the request)."""

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
