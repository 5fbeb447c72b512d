"""Pure reading helpers the adapters share: the failure classifier and its common table,
reset times, JSON lines and documents, dig, and token usage.

Classification: each adapter finds the run's *terminal* error text (where its CLI puts it) and
passes it to `classify`, which applies the adapter's own rules first and then the common
table below. Earlier warnings are never classified (codex's "Model metadata ... not found"
would read as model_not_found).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from multi_model.models import Parsed, Status, Usage

Rule = tuple["re.Pattern[str]", Status]


def compile_rules(*pairs: tuple[str, Status]) -> tuple[Rule, ...]:
    return tuple((re.compile(p, re.IGNORECASE), s) for p, s in pairs)


COMMON_RULES: tuple[Rule, ...] = compile_rules(
    (
        r"prompt is too long|request entity too large|context (length|limit|window)"
        r"|tokens? exceeded|too many tokens|maximum context|input is too large",
        "oversize",
    ),
    (
        r"\b401\b|unauthori[sz]ed|UNAUTHENTICATED|API key not valid|API_KEY_INVALID"
        r"|invalid api key|incorrect api key|api key required|missing (environment variable"
        r"|api key|bearer)|missing \w*API_KEY|no auth|not logged in|not authenticated"
        r"|(set an|invalid) auth method|authentication (failed|information|required)"
        r"|please (re)?login|login required|\b403\b|forbidden",
        "auth_required",
    ),
    (
        r"\b429\b|rate.?limit|RESOURCE_EXHAUSTED|resource has been exhausted|quota"
        r"|too many requests|exhausted your capacity|usage limit",
        "rate_limited",
    ),
    (
        r"\b404\b[^\n]*model|model(?! metadata)[^\n]*?(not found|does not exist|not available)"
        r"|is not found for API version|ModelNotFound|unknown model|invalid model"
        r"|no such model",
        "model_not_found",
    ),
    (
        r"connection (error|failed|refused)|could not connect|unable to connect|fetch failed"
        r"|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|name (or service not known"
        r"|does not resolve)|failed to lookup address|stream disconnected"
        r"|all connection attempts failed|network",
        "network",
    ),
    (
        r"\b50[0-4]\b|internal server error|high demand|overloaded|service unavailable"
        r"|bad gateway",
        "server_error",
    ),
    (r"content.?filter|safety|recitation|policy violation", "refused"),
)


def classify(text: str, rules: tuple[Rule, ...] = (), default: Status = "crashed") -> Status:
    """First matching class for a terminal error text; `default` when nothing matches."""
    for pattern, status in (*rules, *COMMON_RULES):
        if pattern.search(text):
            return status
    return default


ERROR_LINE = re.compile(r"^\W{0,3}error\b", re.IGNORECASE | re.MULTILINE)
HTTP_CLASSES: dict[int, Status] = {
    401: "auth_required",
    403: "auth_required",
    404: "model_not_found",
    408: "timeout",
    413: "oversize",
    429: "rate_limited",
}
ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def http_class(code: int | None) -> Status | None:
    """The failure class an HTTP status implies, or None when it says nothing specific."""
    if code is None:
        return None
    return HTTP_CLASSES.get(code) or ("server_error" if code >= 500 else None)


_DURATION = re.compile(
    r"(\d+(?:\.\d+)?)\s*(days?|d|hours?|h|minutes?|min|ms|m|seconds?|sec|s)(?![a-z])", re.IGNORECASE
)
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


def failure(
    text: str,
    rules: tuple[Rule, ...] = (),
    default: Status = "crashed",
    status: Status | None = None,
) -> Parsed:
    """A Parsed failure for a terminal error text, with the reset time for rate limits;
    `status` when the CLI already said which class it is (an HTTP code, an error type)."""
    status = status or classify(text, rules, default)
    retry = parse_retry_after(text) if status == "rate_limited" else None
    return Parsed(status=status, error=one_paragraph(text), retry_after_s=retry)


def one_paragraph(text: str, limit: int = 2000) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def stderr_tail(stderr: str, lines: int = 15, chars: int = 4000) -> str:
    """The last lines of stderr (at most `chars` characters), for error messages and the
    classifier: a 10 MiB line would otherwise cost the regexes seconds."""
    return "\n".join(stderr[-chars * 2 :].strip().splitlines()[-lines:])[-chars:]


def _loads(text: str) -> object | None:
    """The JSON value of `text`; None when not JSON or nested too deeply (RecursionError)."""
    try:
        value: object = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value


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
    data: object,
    *,
    input: str,
    output: str,
    cached: str | None = None,
    reasoning: str | None = None,
    total: str | None = None,
    cost: str | None = None,
) -> Usage | None:
    """A Usage from a dict of counters, naming the keys this CLI uses."""
    if not isinstance(data, dict):
        return None

    def num(key: str | None) -> int | None:
        return as_int(data.get(key)) if key else None

    usage = Usage(
        input_tokens=num(input),
        output_tokens=num(output),
        cached_input_tokens=num(cached),
        reasoning_tokens=num(reasoning),
        total_tokens=num(total),
        cost_usd=float(data[cost]) if cost and isinstance(data.get(cost), (int, float)) else None,
    )
    return usage if any(v is not None for v in usage.model_dump().values()) else None
