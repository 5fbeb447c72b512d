"""OpenAI-compatible servers (LiteLLM proxy, vLLM, LocalAI, llama.cpp server, LM Studio), one
adapter instance per configured `[endpoints.<name>]`.

`POST {base_url}/chat/completions` with `{"model", "messages": [user prompt], "stream": false}`
and `Authorization: Bearer $KEY` when `key_env` names a variable that is set. The answer is
`choices[0].message.content`, exactly as sent. HTTP errors are classified by status code first
(401/403 auth, 404 model, 429 rate limit with `Retry-After`, 5xx server) and otherwise by the
OpenAI-style `{"error": {"message": ...}}` text. `preflight` reports what is known to fail
before any request: no model to ask for, or `key_env` naming an unset variable.

The helpers `http_failure`, `error_message` and `retry_after` are shared with the ollama
adapter: they read any HTTP error reply, whatever the API.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from multi_model.config import EndpointSettings
from multi_model.models import HttpCall, HttpReply, Parsed, Request, Status, Usage
from multi_model.providers.base import (
    HttpProvider,
    Rule,
    as_int,
    as_str,
    classify,
    dig,
    parse_retry_after,
    usage_from,
)

_BY_CODE: dict[int, Status] = {401: "auth_required", 403: "auth_required",
                               404: "model_not_found", 408: "timeout", 413: "oversize",
                               429: "rate_limited"}


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever case the server used for its name."""
    name = name.lower()
    return next((v for k, v in headers.items() if k.lower() == name), None)


def error_message(body: str) -> str | None:
    """The error text of an error body: OpenAI `error.message`, Ollama `error`, FastAPI
    `detail`, a bare `message`; else the body itself (non-JSON), else None when empty."""
    try:
        data = json.loads(body)
    except ValueError:
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
    status: Status = _BY_CODE.get(code) or ("server_error" if code >= 500
                                            else classify(message, rules))
    retry = retry_after(reply.headers, message) if status == "rate_limited" else None
    where = f"HTTP {code}: " if code >= 400 else ""
    return Parsed(status=status, error=f"{where}{message}", retry_after_s=retry)


def no_answer(reply: HttpReply, rules: tuple[Rule, ...] = ()) -> Parsed:
    """A Parsed failure for a request that got no HTTP answer (status 0)."""
    if reply.timed_out or "timed out" in (reply.error or ""):
        return Parsed(status="timeout", error=reply.error or "no answer in time")
    text = reply.error or "no answer"
    return Parsed(status=classify(text, rules, default="network"), error=text)


def json_body(reply: HttpReply) -> object | None:
    try:
        return json.loads(reply.body)
    except ValueError:
        return None


class OpenAICompat(HttpProvider):
    """One configured OpenAI-compatible endpoint; `name` is its `[endpoints.<name>]` key."""

    def __init__(self, name: str, endpoint: EndpointSettings) -> None:
        self.name = name  # type: ignore[misc]  # per instance: one adapter per endpoint
        self.endpoint = endpoint
        self.catalog = tuple(dict.fromkeys(  # type: ignore[misc]
            [*([endpoint.model] if endpoint.model else []), *endpoint.models]))
        self.rate_bucket = f"endpoint {name} ({endpoint.base_url})"  # type: ignore[misc]
        self.install_hint = f"start the server behind {endpoint.base_url}"  # type: ignore[misc]
        self.login_hint = (f"export {endpoint.key_env}=<API key>"  # type: ignore[misc]
                           if endpoint.key_env else "")

    def base_url(self, env: Mapping[str, str]) -> str:
        return self.endpoint.base_url.rstrip("/")

    def _headers(self, env: Mapping[str, str]) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        key = env.get(self.endpoint.key_env) if self.endpoint.key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def preflight(self, req: Request, env: Mapping[str, str]) -> Parsed | None:
        """A failure known before any request (unset key variable, no model); None to go on."""
        key_env = self.endpoint.key_env
        if key_env and not env.get(key_env):
            return Parsed(status="auth_required", error=(
                f"endpoint {self.name}: {key_env} is not set (its [endpoints.{self.name}] "
                f"key_env); export {key_env}=<API key>"))
        if not (req.model or self.endpoint.model):
            return Parsed(status="model_not_found", error=(
                f"endpoint {self.name} has no model: ask for `{self.name}:<model>` or set "
                f"[endpoints.{self.name}] model (see `mm models {self.name}`)"))
        return None

    def build_http(self, req: Request, env: Mapping[str, str]) -> HttpCall:
        """The chat request; the model is omitted only when neither the request nor the
        endpoint names one (`preflight` reports that case without calling)."""
        model = req.model or self.endpoint.model
        payload: dict[str, object] = {"model": model} if model else {}
        payload["messages"] = [{"role": "user", "content": req.prompt}]
        payload["stream"] = False
        return HttpCall("POST", f"{self.base_url(env)}/chat/completions",
                        {**self._headers(env), "Content-Type": "application/json"},
                        json.dumps(payload, ensure_ascii=False).encode("utf-8"))

    def parse_http(self, reply: HttpReply) -> Parsed:
        if reply.status == 0:
            return no_answer(reply, self.rules)
        if reply.status >= 400:
            return self._auth_hint(http_failure(reply, self.rules))
        data = json_body(reply)
        if isinstance(data, dict) and data.get("error"):
            return self._auth_hint(http_failure(reply, self.rules))
        return _completion(data, reply.body)

    def _auth_hint(self, parsed: Parsed) -> Parsed:
        if parsed.status != "auth_required":
            return parsed
        hint = (f"check {self.endpoint.key_env}" if self.endpoint.key_env
                else f"set [endpoints.{self.name}] key_env to the variable holding the key")
        return Parsed(status=parsed.status, error=f"{parsed.error} ({hint})")

    def models_call(self, env: Mapping[str, str]) -> HttpCall:
        return HttpCall("GET", f"{self.base_url(env)}/models", self._headers(env))

    def parse_models_reply(self, reply: HttpReply) -> list[str]:
        """`data[].id` of a `/models` answer; [] when it has none."""
        entries = dig(json_body(reply), "data")
        ids = [as_str(dig(e, "id")) for e in entries] if isinstance(entries, list) else []
        return [i for i in ids if i]


def _completion(data: object, body: str) -> Parsed:
    """Read a chat completion: text, usage, model; refusals and non-completions classified."""
    message = dig(data, "choices", 0, "message")
    if not isinstance(message, dict):
        status: Status = "bad_output" if body.strip() else "empty_output"
        return Parsed(status=status, error="no choices[0].message in the reply")
    usage, model = _usage(data), as_str(dig(data, "model"))
    refusal = as_str(message.get("refusal"))
    if refusal or dig(data, "choices", 0, "finish_reason") == "content_filter":
        return Parsed(status="refused", error=refusal or "finish_reason: content_filter",
                      usage=usage, model_reported=model)
    return Parsed(text=_content_text(message.get("content")), usage=usage, model_reported=model)


def _usage(data: object) -> Usage | None:
    usage = usage_from(dig(data, "usage"), input="prompt_tokens", output="completion_tokens",
                       total="total_tokens")
    if usage is None:
        return None
    return usage.model_copy(update={
        "cached_input_tokens": as_int(dig(data, "usage", "prompt_tokens_details", "cached_tokens")),
        "reasoning_tokens": as_int(dig(data, "usage", "completion_tokens_details",
                                       "reasoning_tokens"))})


def _content_text(content: object) -> str:
    """`content` as a string, or the text parts of a content list joined exactly."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(as_str(dig(part, "text")) or "" for part in content)
    return ""
