"""OpenAI-compatible servers (LiteLLM proxy, vLLM, LocalAI, llama.cpp server, LM Studio), one
adapter instance per configured `[endpoints.<name>]`.

`POST {base_url}/chat/completions` with `{"model", "messages": [user prompt], "max_tokens",
"stream"}` and `Authorization: Bearer $KEY` when `key_env` names a variable that is set. The
answer is `choices[0].message.content`, exactly as sent; with `stream = true` the reply is
Server-Sent Events (one `data: {chunk}` line per piece, `data: [DONE]` last), read whole by the
runner under the same deadline and joined here from `choices[0].delta.content`, usage from the
`include_usage` chunk. HTTP errors are classified by status code first (401/403 auth, 404
model, 429 rate limit with `Retry-After`, 5xx server) and otherwise by the OpenAI-style
`{"error": {"message": ...}}` text, with the rules below for what real servers say on a 400.
`preflight` reports what is known to fail before any request: no model to ask for, or
`key_env` naming an unset variable.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from multi_model.models import HttpCall, HttpReply, Parsed, Request, Status, Usage
from multi_model.providers.base import HttpProvider
from multi_model.providers.http import header, http_failure, json_body, no_reply
from multi_model.providers.parse import (
    COMMON_RULES,
    as_int,
    as_str,
    compile_rules,
    dig,
    usage_from,
)

if TYPE_CHECKING:
    from multi_model.config import EndpointSettings


_NETWORK = tuple(rule for rule in COMMON_RULES if rule[1] == "network")


class OpenAICompat(HttpProvider):
    """One configured OpenAI-compatible endpoint; `name` is its `[endpoints.<name>]` key."""

    # A LiteLLM proxy without a database answers every key but its master key with HTTP 400
    # {"error": {"message": "No connected db.", "type": "no_db_connection"}}; llama.cpp's
    # server says "request (N tokens) exceeds the available context size" with HTTP 400.
    rules = compile_rules(
        (r"no connected db|no_db_connection", "auth_required"),
        (r"exceeds the available context size|exceed_context_size", "oversize"),
    )

    def __init__(self, name: str, endpoint: EndpointSettings) -> None:
        self.name = name  # per instance: one adapter per endpoint
        self.endpoint = endpoint
        models = [*([endpoint.model] if endpoint.model else []), *endpoint.models]
        self.catalog = tuple(dict.fromkeys(models))  # type: ignore[misc]
        self.rate_bucket = f"endpoint {name} ({endpoint.base_url})"  # type: ignore[misc]
        self.install_hint = f"start the server behind {endpoint.base_url}"  # type: ignore[misc]
        key_hint = f"export {endpoint.key_env}=<API key>" if endpoint.key_env else ""
        self.login_hint = key_hint  # type: ignore[misc]

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
            return Parsed(
                status="auth_required",
                error=(
                    f"endpoint {self.name}: {key_env} is not set (its [endpoints.{self.name}] "
                    f"key_env); export {key_env}=<API key>"
                ),
            )
        if not (req.model or self.endpoint.model):
            return Parsed(
                status="model_not_found",
                error=(
                    f"endpoint {self.name} has no model: ask for `{self.name}:<model>` or set "
                    f"[endpoints.{self.name}] model (see `mm models {self.name}`)"
                ),
            )
        return None

    def build_http(self, req: Request, env: Mapping[str, str]) -> HttpCall:
        """The chat request; the model is omitted only when neither the request nor the
        endpoint names one (`preflight` reports that case without calling)."""
        model = req.model or self.endpoint.model
        payload: dict[str, object] = {"model": model} if model else {}
        payload["messages"] = [{"role": "user", "content": req.prompt}]
        if req.max_tokens:
            payload["max_tokens"] = req.max_tokens
        payload["stream"] = self.endpoint.stream
        if self.endpoint.stream:
            payload["stream_options"] = {"include_usage": True}
        return HttpCall(
            "POST",
            f"{self.base_url(env)}/chat/completions",
            {**self._headers(env), "Content-Type": "application/json", **self._accept()},
            json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        )

    def _accept(self) -> dict[str, str]:
        return {"Accept": "text/event-stream"} if self.endpoint.stream else {}

    def parse_http(self, reply: HttpReply) -> Parsed:
        if reply.status == 0:
            return no_reply(reply, self.rules)
        if reply.status >= 400:
            return self._auth_hint(_upstream(http_failure(reply, self.rules)))
        if _is_stream(reply):
            return self._streamed(reply)
        data = json_body(reply)
        if isinstance(data, dict) and data.get("error"):
            return self._auth_hint(http_failure(reply, self.rules))
        return _completion(data, reply.body)

    def _streamed(self, reply: HttpReply) -> Parsed:
        """An SSE reply: the chunks' text joined, usage and model from the chunks; an
        `error` event (a proxy's mid-stream failure) classified like an error body."""
        chunks = _events(reply.body)
        failed = next((c for c in chunks if isinstance(c, dict) and c.get("error")), None)
        if failed is not None:
            return self._auth_hint(
                http_failure(HttpReply(reply.status, json.dumps(failed)), self.rules)
            )
        deltas = [dig(c, "choices", 0, "delta") for c in chunks]
        if not any(isinstance(d, dict) for d in deltas):
            status: Status = "bad_output" if reply.body.strip() else "empty_output"
            return Parsed(status=status, error="no choices[0].delta in the streamed reply")
        text = "".join(_content_text(d.get("content")) for d in deltas if isinstance(d, dict))
        usage = next((u for u in map(_usage, chunks) if u is not None), None)
        model = next((m for m in (as_str(dig(c, "model")) for c in chunks) if m), None)
        reasons = [dig(c, "choices", 0, "finish_reason") for c in chunks]
        if "content_filter" in reasons:
            return Parsed(status="refused", error="finish_reason: content_filter", usage=usage)
        return Parsed(text=text, usage=usage, model_reported=model)

    def _auth_hint(self, parsed: Parsed) -> Parsed:
        if parsed.status != "auth_required":
            return parsed
        hint = (
            f"check {self.endpoint.key_env}"
            if self.endpoint.key_env
            else f"set [endpoints.{self.name}] key_env to the variable holding the key"
        )
        return Parsed(status=parsed.status, error=f"{parsed.error} ({hint})")

    def models_call(self, env: Mapping[str, str]) -> HttpCall:
        return HttpCall("GET", f"{self.base_url(env)}/models", self._headers(env))

    def parse_models_reply(self, reply: HttpReply) -> list[str]:
        """`data[].id` of a `/models` answer; [] when it has none."""
        entries = dig(json_body(reply), "data")
        ids = [as_str(dig(e, "id")) for e in entries] if isinstance(entries, list) else []
        return [i for i in ids if i]


def _upstream(parsed: Parsed) -> Parsed:
    """A 5xx whose text says the server could not reach the model behind it (a LiteLLM proxy
    whose backend is down answers 500 "OpenAIException - Connection error.") is `network`:
    the model is unreachable, as it would be called directly; the proxy itself is fine."""
    text = parsed.error or ""
    if parsed.status != "server_error" or not any(p.search(text) for p, _ in _NETWORK):
        return parsed
    return Parsed(
        status="network",
        error=f"{parsed.error} (the server could not reach the model behind it)",
    )


def _is_stream(reply: HttpReply) -> bool:
    kind = header(reply.headers, "content-type") or ""
    return "text/event-stream" in kind or reply.body.lstrip().startswith("data:")


def _events(body: str) -> list[object]:
    """The JSON payloads of an SSE body's `data:` lines, `[DONE]` and comments skipped."""
    found: list[object] = []
    for line in body.splitlines():
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload and payload != "[DONE]":
            try:
                found.append(json.loads(payload))
            except (ValueError, RecursionError):
                found.append(None)
    return found


def _completion(data: object, body: str) -> Parsed:
    """Read a chat completion: text, usage, model; refusals and non-completions classified."""
    message = dig(data, "choices", 0, "message")
    if not isinstance(message, dict):
        status: Status = "bad_output" if body.strip() else "empty_output"
        return Parsed(status=status, error="no choices[0].message in the reply")
    usage, model = _usage(data), as_str(dig(data, "model"))
    refusal = as_str(message.get("refusal"))
    if refusal or dig(data, "choices", 0, "finish_reason") == "content_filter":
        return Parsed(
            status="refused",
            error=refusal or "finish_reason: content_filter",
            usage=usage,
            model_reported=model,
        )
    return Parsed(text=_content_text(message.get("content")), usage=usage, model_reported=model)


def _usage(data: object) -> Usage | None:
    usage = usage_from(
        dig(data, "usage"), input="prompt_tokens", output="completion_tokens", total="total_tokens"
    )
    if usage is None:
        return None
    return usage.model_copy(
        update={
            "cached_input_tokens": as_int(
                dig(data, "usage", "prompt_tokens_details", "cached_tokens")
            ),
            "reasoning_tokens": as_int(
                dig(data, "usage", "completion_tokens_details", "reasoning_tokens")
            ),
        }
    )


def _content_text(content: object) -> str:
    """`content` as a string, or the text parts of a content list joined exactly."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(as_str(dig(part, "text")) or "" for part in content)
    return ""
