"""Reading HTTP replies of model servers, whatever their API (OpenAI-compatible, Ollama):
error text, reset times from headers, and the failure class of a reply or of no reply."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from multi_model.models import HttpReply, Parsed, Status
from multi_model.providers.parse import Rule, as_str, classify, dig, http_class, parse_retry_after


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever case the server used for its name."""
    name = name.lower()
    return next((v for k, v in headers.items() if k.lower() == name), None)


def error_message(body: str) -> str | None:
    """The error text of an error body: OpenAI `error.message`, Ollama `error`, FastAPI
    `detail`, a bare `message`; else the body itself (non-JSON), else None when empty."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested too deeply
        data = None
    for path in (("error", "message"), ("error",), ("detail",), ("message",)):
        text = as_str(dig(data, *path))
        if text:
            return text
    if isinstance(data, (dict, list)):
        return json.dumps(data)[:500]
    return body.strip()[:500] or None


def retry_after(headers: Mapping[str, str], message: str = "") -> float | None:
    """Seconds to wait: `retry-after-ms`, `Retry-After` (seconds or an HTTP date), else a
    reset time written in the message ('try again in 20s')."""
    millis = _number(header(headers, "retry-after-ms"))
    if millis is not None:
        return millis / 1000
    value = header(headers, "retry-after")
    seconds = _number(value)
    if seconds is not None:
        return seconds
    if value:
        return _seconds_until(value, header(headers, "date"))
    return parse_retry_after(message)


def _number(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _seconds_until(when: str, now: str | None) -> float | None:
    try:
        target = parsedate_to_datetime(when)
        base = parsedate_to_datetime(now) if now else datetime.now(timezone.utc)
    except (TypeError, ValueError):
        return None
    return max(0.0, (target - base).total_seconds())


def http_failure(reply: HttpReply, rules: tuple[Rule, ...] = ()) -> Parsed:
    """A Parsed failure for an error reply: by status code when >= 400 (a 2xx carrying an
    error body is classified by its text), then by the error text."""
    message = error_message(reply.body) or "no error text"
    code = reply.status
    status: Status = http_class(code) or classify(message, rules)
    retry = retry_after(reply.headers, message) if status == "rate_limited" else None
    where = f"HTTP {code}: " if code >= 400 else ""
    return Parsed(status=status, error=f"{where}{message}", retry_after_s=retry)


def no_reply(reply: HttpReply, rules: tuple[Rule, ...] = ()) -> Parsed:
    """A Parsed failure for a request that got no HTTP answer (status 0)."""
    if reply.timed_out or "timed out" in (reply.error or ""):
        return Parsed(status="timeout", error=reply.error or "no answer in time")
    text = reply.error or "no answer"
    return Parsed(status=classify(text, rules, default="network"), error=text)


def json_body(reply: HttpReply) -> object | None:
    try:
        value: object = json.loads(reply.body)
    except (ValueError, RecursionError):
        return None
    return value
