"""Ollama's native HTTP API: `POST /api/chat` with `stream: false`, answer in `message.content`.

The server is `OLLAMA_HOST` from the environment (`host`, `host:port`, `http(s)://host[:port]`,
read the way the ollama CLI's `envconfig.Host` reads it: no scheme means http and port 11434,
bare `ollama.com` means https, an `http://` / `https://` URL without a port means 80 / 443),
else http://127.0.0.1:11434. A wildcard bind
address (`0.0.0.0`, `::`) is what a server listens on, not an address to call: it means
loopback. Models are never pulled: `/api/chat` does not pull (only `ollama run` does), and a
missing model is reported as model_not_found with the `ollama pull` command to run by hand.
No model named at all fails in `preflight`, before any request. The output cap goes in
`options.num_predict`. A 404 that does not name a model (`404 page not found`, llama.cpp's
`File Not Found`, FastAPI's `Not Found`) means the server there is not Ollama: `not_installed`
with what answered, never `model_not_found` (no pull would help).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from multi_model.models import HttpCall, HttpReply, Parsed, Request, Status
from multi_model.providers.base import HttpProvider
from multi_model.providers.http import error_message, http_failure, json_body, no_reply
from multi_model.providers.parse import as_str, dig, usage_from

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 11434
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": DEFAULT_HOST}
_MISSING_TAG = re.compile(r"""model ["']?([^"'\s]+?)["']? not found""")
_MODEL_404 = re.compile(r"\bmodel\b", re.IGNORECASE)
_NO_MODEL = (
    "no Ollama model named: ask for `ollama:<tag>` (e.g. ollama:llama3.2; "
    "`mm models ollama` lists the local tags) or set [providers.ollama] model"
)


def ollama_url(value: str | None) -> str:
    """Base URL for an OLLAMA_HOST value (None or empty: the default local server)."""
    value = (value or "").strip()
    scheme, sep, rest = value.partition("://")
    if not sep:
        scheme, rest, port = (
            ("https", value, 443) if value == "ollama.com" else ("http", value, DEFAULT_PORT)
        )
    else:
        port = 443 if scheme == "https" else 80
    hostport, _, path = rest.partition("/")
    host, port = _split_hostport(hostport, port)
    host = _WILDCARDS.get(host, host)
    shown = f"[{host}]" if ":" in host else host
    path = f"/{path.strip('/')}" if path.strip("/") else ""
    return f"{scheme}://{shown}:{port}{path}"


def _split_hostport(hostport: str, default_port: int) -> tuple[str, int]:
    if hostport.startswith("["):  # [v6]:port or [v6]
        host, _, tail = hostport[1:].partition("]")
        port = tail[1:] if tail.startswith(":") else ""
    elif hostport.count(":") == 1:
        host, port = hostport.split(":")
    else:  # a bare name, IPv4 or unbracketed IPv6 address
        host, port = hostport, ""
    return host, int(port) if port.isdigit() and int(port) <= 65535 else default_port


class Ollama(HttpProvider):
    name = "ollama"
    rules = ((re.compile(r"model is required", re.I), "model_not_found"),)
    catalog = (
        "llama3.2",
        "llama3.1:8b",
        "qwen3",
        "qwen2.5-coder",
        "gemma3",
        "deepseek-r1",
        "gpt-oss:20b",
        "mistral",
    )
    rate_bucket = "ollama"  # local Ollama server
    install_hint = "https://ollama.com/download, then `ollama serve`"
    login_hint = ""

    def base_url(self, env: Mapping[str, str]) -> str:
        return ollama_url(env.get("OLLAMA_HOST"))

    def preflight(self, req: Request, env: Mapping[str, str]) -> Parsed | None:
        """model_not_found without a request when no model is named; else None."""
        return None if req.model else Parsed(status="model_not_found", error=_NO_MODEL)

    def build_http(self, req: Request, env: Mapping[str, str]) -> HttpCall:
        payload: dict[str, object] = {"model": req.model} if req.model else {}
        payload["messages"] = [{"role": "user", "content": req.prompt}]
        payload["stream"] = False
        if req.max_tokens:
            payload["options"] = {"num_predict": req.max_tokens}
        return HttpCall(
            "POST",
            f"{self.base_url(env)}/api/chat",
            {"Content-Type": "application/json", "Accept": "application/json"},
            json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        )

    def parse_http(self, reply: HttpReply) -> Parsed:
        if reply.status == 0:
            return _unreachable(reply)
        data = json_body(reply)
        if reply.status == 404 and not _MODEL_404.search(error_message(reply.body) or ""):
            return _not_ollama(reply)
        if reply.status >= 400 or (isinstance(data, dict) and data.get("error")):
            return _with_hint(http_failure(reply, self.rules))
        content = dig(data, "message", "content")
        if not isinstance(content, str):
            status: Status = "bad_output" if reply.body.strip() else "empty_output"
            return Parsed(status=status, error="no message.content in the Ollama reply")
        return Parsed(
            text=content,
            model_reported=as_str(dig(data, "model")),
            usage=usage_from(data, input="prompt_eval_count", output="eval_count"),
        )

    def models_call(self, env: Mapping[str, str]) -> HttpCall:
        return HttpCall("GET", f"{self.base_url(env)}/api/tags", {"Accept": "application/json"})

    def parse_models_reply(self, reply: HttpReply) -> list[str]:
        """`models[].name` of an `/api/tags` answer; [] when it has none."""
        entries = dig(json_body(reply), "models")
        names = [as_str(dig(e, "name")) for e in entries] if isinstance(entries, list) else []
        return [n for n in names if n]


def _unreachable(reply: HttpReply) -> Parsed:
    """No HTTP answer: a refused connection means no server is running there."""
    parsed = no_reply(reply)
    if "refused" not in (reply.error or "").lower():
        return parsed
    # HttpReply has no URL field yet (Response.cli_used shows it); name it once it does.
    url = reply.url or None
    where = f"at {url}" if url else "at OLLAMA_HOST (default http://127.0.0.1:11434)"
    return Parsed(
        status="not_installed",
        error=f"no Ollama server {where}: {reply.error} (start it with `ollama serve`)",
    )


def _not_ollama(reply: HttpReply) -> Parsed:
    """A 404 without a word about a model: what answered has no Ollama `/api/chat`."""
    said = (error_message(reply.body) or "no error text")[:200]
    where = reply.url or "OLLAMA_HOST"
    return Parsed(
        status="not_installed",
        error=(
            f"the server at {where} is not Ollama (HTTP 404: {said}); point OLLAMA_HOST at "
            "an Ollama server, or configure an OpenAI-compatible server as [endpoints.NAME]"
        ),
    )


def _with_hint(parsed: Parsed) -> Parsed:
    """Turn Ollama's model errors into instructions (never an automatic pull)."""
    if parsed.status != "model_not_found":
        return parsed
    text = parsed.error or ""
    if "model is required" in text:
        return Parsed(status=parsed.status, error=_NO_MODEL)
    missing = _MISSING_TAG.search(text)
    tag = missing.group(1) if missing else "<tag>"
    return Parsed(
        status=parsed.status,
        error=(
            f"{text} (multi-model never pulls models: run `ollama pull {tag}` yourself; "
            "`mm models ollama` lists the local tags)"
        ),
    )
