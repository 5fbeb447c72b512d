"""A mock model server for contract tests of the real CLIs (stdlib only, 127.0.0.1 only).

    python mockserver.py --port-file F --log L [--lifetime 900]

Speaks the OpenAI Responses and Chat Completions APIs, Gemini `generateContent` /
`streamGenerateContent`, and Anthropic Messages, streaming with SSE when asked. The port goes
to the port file once it listens; every request is appended to the log as one JSON line
(method, path, headers with secrets masked, body, api, model, scenario). It exits by itself
after `--lifetime` seconds.

The scenario comes from the requested model name (`mock-429`, `gpt-5.5-mock-write`, ...) or
a path prefix `/s/<scenario>/`; anything else is `ok`:

    ok      the canned answer        slow    the answer after SLOW_S seconds
    hang    never answers            drop    closes the connection without a reply
    401 403 404 500                  an error body in the caller's dialect
    429     rate limited, Retry-After: 1     quota   429 with OpenAI's insufficient_quota
    write   asks the CLI to create the file named by MOCK_WRITE_PATH=<path> in the prompt,
            with the first write or shell tool the request offers; without one it answers
            NO_TOOL; once a tool result comes back it answers DONE.
    mcp     asks the CLI to call the MCP tool `ask` it offers (`ask`, `mcp__mm__ask`,
            `mcp_mm_ask`, codex's namespace `mcp__mm` + `ask`, or qwen's deferred
            `tool_call`) with MCP_PROMPT; once a result comes back it answers DONE plus
            `saw: DEMO` when the demo panel's answer is in that request. With
            MOCK_MCP_TOOL=<name> in the prompt it calls that tool instead, with only a
            prompt (a named model tool).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import select
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ANSWER = "MOCK_OK: hello from the mock model"
DONE = "MOCK_DONE: tool step finished"
NO_TOOL = "MOCK_NO_WRITE_TOOL: no tool that writes files was offered"
SLOW_S = 2.0
USAGE = {"input": 11, "output": 7, "cached": 4}
SCENARIOS = (
    "ok",
    "slow",
    "hang",
    "drop",
    "401",
    "403",
    "404",
    "429",
    "quota",
    "500",
    "write",
    "mcp",
)
MCP_PROMPT = "MCP_E2E_PROMPT"
ERRORS = {
    "401": (
        "Incorrect API key provided: mock***. (mock 401)",
        "authentication_error",
        "UNAUTHENTICATED",
    ),
    "403": ("Permission denied for this key (mock 403)", "permission_error", "PERMISSION_DENIED"),
    "404": (
        "The model `{model}` does not exist or you do not have access to it.",
        "not_found_error",
        "NOT_FOUND",
    ),
    "429": (
        "Rate limit reached for requests (mock 429). Please try again in 1s.",
        "rate_limit_error",
        "RESOURCE_EXHAUSTED",
    ),
    "quota": (
        "You exceeded your current quota, please check your plan and billing details.",
        "insufficient_quota",
        "RESOURCE_EXHAUSTED",
    ),
    "500": (
        "The server had an error while processing your request (mock 500)",
        "api_error",
        "INTERNAL",
    ),
}
WRITE_TOOLS = ("write_file", "write", "create", "create_file", "Write", "edit_file")
SHELL_TOOLS = ("exec_command", "shell", "bash", "run_shell_command", "Bash", "run_command")


# --- what was asked --------------------------------------------------------------------------


def api_of(path: str) -> str:
    if path.endswith("/responses"):
        return "responses"
    if path.endswith("/chat/completions"):
        return "chat"
    if re.search(r"/models/[^/]+:(stream)?[gG]enerateContent$", path):
        return "gemini"
    if re.search(r":countTokens$", path):
        return "gemini-count"
    if path.endswith("/messages"):
        return "anthropic"
    return "other"


def model_of(api: str, path: str, body: dict) -> str:
    if api.startswith("gemini"):
        match = re.search(r"/models/([^/:]+):", path)
        return match.group(1) if match else ""
    return str(body.get("model", ""))


def scenario_of(prefix: str | None, model: str) -> str:
    if prefix in SCENARIOS:
        return prefix
    match = re.search(r"mock-(" + "|".join(SCENARIOS) + r")\b", model)
    return match.group(1) if match else "ok"


def tools_of(api: str, body: dict) -> dict[str, dict]:
    """Offered tools: name -> JSON Schema of its parameters."""
    found: dict[str, dict] = {}
    for tool in body.get("tools") or []:
        if api == "gemini":
            for decl in tool.get("functionDeclarations") or []:
                schema = decl.get("parametersJsonSchema") or decl.get("parameters")
                found[decl["name"]] = schema or {}
        elif api == "chat" and "function" in tool:
            found[tool["function"]["name"]] = tool["function"].get("parameters") or {}
        elif tool.get("type") == "namespace":  # codex's MCP tools: one namespace per server
            for sub in tool.get("tools") or []:
                found[f"{tool['name']}::{sub['name']}"] = sub.get("parameters") or {}
        elif "name" in tool:
            found[tool["name"]] = tool.get("parameters") or tool.get("input_schema") or {}
    return found


def mcp_call(api: str, body: dict) -> str | tuple[str, dict]:
    """The `mcp` scenario's reply: a call of the offered `ask` (or named) MCP tool, then DONE."""
    text = json.dumps(body)
    if has_tool_result(api, body):
        return f"{DONE} | saw: {'DEMO' if 'DEMO stand-in for codex' in text else 'NOTHING'}"
    named = re.search(r"MOCK_MCP_TOOL=(\w+)", text)
    tool = named.group(1) if named else "ask"
    args: dict = {"prompt": MCP_PROMPT} if named else {"models": ["codex"], "prompt": MCP_PROMPT}
    for name in tools_of(api, body):
        if name == tool or name.endswith((f"__{tool}", f"_{tool}", f"::{tool}")):
            return name, args
    deferred = re.search(rf"mcp__\w+?__{tool}\b", text)
    if "tool_call" in tools_of(api, body) and deferred:  # qwen defers MCP tools
        return "tool_call", {"name": deferred.group(0), "arguments": args}
    return "MOCK_NO_MCP_TOOL: " + ",".join(sorted(tools_of(api, body)))


def has_tool_result(api: str, body: dict) -> bool:
    text = json.dumps(body)
    marker = {
        "responses": '"function_call_output"',
        "chat": '"role": "tool"',
        "gemini": '"functionResponse"',
        "anthropic": '"tool_result"',
    }.get(api)
    return bool(marker and marker in text)


def write_call(tools: dict[str, dict], path: str) -> tuple[str, dict] | None:
    """(tool name, arguments) that would create `path`, from the tools offered."""
    for name in (*WRITE_TOOLS, *SHELL_TOOLS):
        if name in tools:
            return name, fill_args(tools[name], path, shell=name in SHELL_TOOLS)
    return None


def fill_args(schema: dict, path: str, shell: bool) -> dict:
    command = f"echo MOCK_WRITTEN > {path}"
    args: dict = {}
    for prop, spec in (schema.get("properties") or {}).items():
        kind = spec.get("type") if isinstance(spec, dict) else None
        low = prop.lower()
        if re.search(r"command|cmd", low):
            args[prop] = ["bash", "-lc", command] if kind == "array" else command
        elif re.search(r"path|file", low):
            args[prop] = path
        elif re.search(r"content|text", low):
            args[prop] = "MOCK_WRITTEN\n"
        elif prop in (schema.get("required") or []):
            args[prop] = default_for(kind, low)
    if shell and not any(re.search(r"command|cmd", k.lower()) for k in args):
        args["command"] = command
    return args


def default_for(kind: str | None, name: str) -> object:
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        return 30000 if "timeout" in name else 1
    if kind == "array":
        return []
    return "mock" if "description" not in name else "write the file the user asked for"


def fill_schema(schema: dict) -> object:
    """A value for a JSON Schema (gemini's model router asks for structured output)."""
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {k: fill_schema(v) for k, v in (schema.get("properties") or {}).items()}
    if kind in ("integer", "number"):
        low, high = schema.get("minimum", 1), schema.get("maximum", 100)
        return max(low, min(high, 50))
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if "enum" in schema:
        return schema["enum"][0]
    return "mock"


# --- how to answer ---------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: MockServer

    def log_message(self, *args: object) -> None:  # the JSONL log is the record
        pass

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        path, prefix = self._path()
        self._log("GET", path, {}, "other", "", prefix or "ok")
        if path.endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": "mock-model", "object": "model"}]})
        else:
            self._json(404, {"error": {"message": f"no route for GET {path}"}})

    def do_POST(self) -> None:
        path, prefix = self._path()
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        api = api_of(path)
        model = model_of(api, path, body)
        scenario = scenario_of(prefix, model)
        self._log("POST", path, body, api, model, scenario)
        self._answer(api, model, scenario, body, path)

    def _path(self) -> tuple[str, str | None]:
        path = self.path.split("?", 1)[0]
        match = re.match(r"/s/([^/]+)(/.*)", path)
        return (match.group(2), match.group(1)) if match else (path, None)

    def _answer(self, api: str, model: str, scenario: str, body: dict, path: str) -> None:
        if api == "other":
            return self._json(404, {"error": {"message": f"no route for POST {path}"}})
        if api == "gemini-count":
            return self._json(200, {"totalTokens": USAGE["input"]})
        if scenario == "hang":
            return self._hang()
        if scenario == "drop":
            return self._drop()
        if scenario in ERRORS:
            return self._error(api, scenario, model)
        if scenario == "slow":
            time.sleep(SLOW_S)
        if api == "gemini" and not path.endswith("streamGenerateContent") and _schema(body):
            return self._json(200, _gemini_chunk(json.dumps(fill_schema(_schema(body))), model))
        reply = self._reply_for(api, scenario, body)
        DIALECTS[api](
            self,
            model,
            reply,
            bool(body.get("stream", api == "gemini")) or path.endswith("streamGenerateContent"),
        )

    def _reply_for(self, api: str, scenario: str, body: dict) -> str | tuple[str, dict]:
        if scenario == "mcp":
            return mcp_call(api, body)
        if scenario != "write":
            return ANSWER
        if has_tool_result(api, body):
            return DONE
        match = re.search(r"MOCK_WRITE_PATH=(\S+?)(?:[\"'\\\s]|$)", json.dumps(body))
        call = write_call(tools_of(api, body), match.group(1)) if match else None
        return call or NO_TOOL

    # --- plumbing

    def _log(
        self, method: str, path: str, body: object, api: str, model: str, scenario: str
    ) -> None:
        headers = {
            k: ("***" if re.search(r"key|auth|token", k, re.I) else v)
            for k, v in self.headers.items()
        }
        record = {
            "t": time.time(),
            "method": method,
            "path": path,
            "api": api,
            "model": model,
            "scenario": scenario,
            "headers": headers,
            "body": body,
        }
        with self.server.log_lock, open(self.server.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")

    def _json(self, status: int, data: object, extra: dict[str, str] | None = None) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def _sse_start(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def _sse(self, data: object, event: str | None = None) -> None:
        head = f"event: {event}\n" if event else ""
        text = data if isinstance(data, str) else json.dumps(data)
        self.wfile.write(f"{head}data: {text}\n\n".encode())
        self.wfile.flush()

    def _hang(self) -> None:
        """Send nothing until the client goes away (or the server stops)."""
        while not self.server.stopping.is_set():
            ready, _, _ = select.select([self.connection], [], [], 0.2)
            if ready and not self.connection.recv(1, socket.MSG_PEEK):
                return
        self.close_connection = True

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _error(self, api: str, scenario: str, model: str) -> None:
        message, kind, google = ERRORS[scenario]
        message = message.format(model=model)
        status = 429 if scenario == "quota" else int(scenario)
        extra = {"Retry-After": "1"} if status == 429 else {}
        if api.startswith("gemini"):
            if scenario == "404":
                message = (
                    f"models/{model} is not found for API version v1beta, or is not "
                    "supported for generateContent."
                )
            body: dict = {"error": {"code": status, "message": message, "status": google}}
        elif api == "anthropic":
            body = {"type": "error", "error": {"type": kind, "message": message}}
        else:
            body = {
                "error": {
                    "message": message,
                    "type": kind,
                    "code": kind if scenario == "quota" else scenario,
                }
            }
        self._json(status, body, extra)


def _schema(body: dict) -> dict | None:
    config = body.get("generationConfig") or {}
    return config.get("responseJsonSchema") or config.get("responseSchema")


# --- dialects: (handler, model, reply, stream); reply is text or (tool name, args) ---------


def _responses(h: Handler, model: str, reply: str | tuple, stream: bool) -> None:
    if isinstance(reply, tuple):
        namespace, _, name = reply[0].rpartition("::")
        item = {
            "type": "function_call",
            "id": "fc_mock",
            "call_id": "call_mock",
            **({"namespace": namespace} if namespace else {}),
            "name": name,
            "arguments": json.dumps(reply[1]),
            "status": "completed",
        }
    else:
        item = {
            "type": "message",
            "id": "msg_mock",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": reply, "annotations": []}],
        }
    usage = {
        "input_tokens": USAGE["input"],
        "output_tokens": USAGE["output"],
        "input_tokens_details": {"cached_tokens": USAGE["cached"]},
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": USAGE["input"] + USAGE["output"],
    }
    response = {
        "id": "resp_mock",
        "object": "response",
        "model": model,
        "status": "completed",
        "output": [item],
        "usage": usage,
    }
    if not stream:
        return h._json(200, response)
    h._sse_start()
    h._sse(
        {
            "type": "response.created",
            "response": {**response, "status": "in_progress", "output": []},
        },
        "response.created",
    )
    if not isinstance(reply, tuple):
        h._sse(
            {
                "type": "response.output_text.delta",
                "item_id": "msg_mock",
                "output_index": 0,
                "content_index": 0,
                "delta": reply,
            },
            "response.output_text.delta",
        )
    h._sse(
        {"type": "response.output_item.done", "output_index": 0, "item": item},
        "response.output_item.done",
    )
    h._sse({"type": "response.completed", "response": response}, "response.completed")


def _chat(h: Handler, model: str, reply: str | tuple, stream: bool) -> None:
    usage = {
        "prompt_tokens": USAGE["input"],
        "completion_tokens": USAGE["output"],
        "total_tokens": USAGE["input"] + USAGE["output"],
        "prompt_tokens_details": {"cached_tokens": USAGE["cached"]},
    }
    call = None
    if isinstance(reply, tuple):
        call = {
            "id": "call_mock",
            "type": "function",
            "function": {"name": reply[0], "arguments": json.dumps(reply[1])},
        }
    message = {
        "role": "assistant",
        "content": None if call else reply,
        **({"tool_calls": [call]} if call else {}),
    }
    finish = "tool_calls" if call else "stop"
    base = {"id": "chatcmpl-mock", "created": int(time.time()), "model": model}
    if not stream:
        return h._json(
            200,
            {
                **base,
                "object": "chat.completion",
                "usage": usage,
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            },
        )
    h._sse_start()
    chunk = {**base, "object": "chat.completion.chunk"}
    delta = {
        "role": "assistant",
        **({"tool_calls": [{"index": 0, **call}]} if call else {"content": reply}),
    }
    h._sse({**chunk, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]})
    h._sse({**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
    h._sse({**chunk, "choices": [], "usage": usage})
    h._sse("[DONE]")


def _gemini_chunk(text_or_call: str | tuple, model: str) -> dict:
    part = (
        {"functionCall": {"name": text_or_call[0], "args": text_or_call[1]}}
        if isinstance(text_or_call, tuple)
        else {"text": text_or_call}
    )
    return {
        "candidates": [
            {"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": {
            "promptTokenCount": USAGE["input"],
            "candidatesTokenCount": USAGE["output"],
            "cachedContentTokenCount": USAGE["cached"],
            "totalTokenCount": USAGE["input"] + USAGE["output"],
        },
        "modelVersion": model,
    }


def _gemini(h: Handler, model: str, reply: str | tuple, stream: bool) -> None:
    if not stream:
        return h._json(200, _gemini_chunk(reply, model))
    h._sse_start()
    h._sse(_gemini_chunk(reply, model))


def _anthropic(h: Handler, model: str, reply: str | tuple, stream: bool) -> None:
    if isinstance(reply, tuple):
        block = {"type": "tool_use", "id": "toolu_mock", "name": reply[0], "input": reply[1]}
    else:
        block = {"type": "text", "text": reply}
    stop = "tool_use" if isinstance(reply, tuple) else "end_turn"
    usage = {
        "input_tokens": USAGE["input"],
        "output_tokens": USAGE["output"],
        "cache_read_input_tokens": USAGE["cached"],
        "cache_creation_input_tokens": 0,
    }
    message = {
        "id": "msg_mock",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [block],
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": usage,
    }
    if not stream:
        return h._json(200, message)
    h._sse_start()
    h._sse(
        {
            "type": "message_start",
            "message": {
                **message,
                "content": [],
                "stop_reason": None,
                "usage": {**usage, "output_tokens": 1},
            },
        },
        "message_start",
    )
    start = {**block, "input": {}} if block["type"] == "tool_use" else {"type": "text", "text": ""}
    h._sse(
        {"type": "content_block_start", "index": 0, "content_block": start}, "content_block_start"
    )
    delta = (
        {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        if block["type"] == "tool_use"
        else {"type": "text_delta", "text": block["text"]}
    )
    h._sse({"type": "content_block_delta", "index": 0, "delta": delta}, "content_block_delta")
    h._sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
    h._sse(
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": None},
            "usage": {"output_tokens": USAGE["output"]},
        },
        "message_delta",
    )
    h._sse({"type": "message_stop"}, "message_stop")


DIALECTS = {"responses": _responses, "chat": _chat, "gemini": _gemini, "anthropic": _anthropic}


class MockServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, log_path: Path) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.log_path = log_path
        self.log_lock = threading.Lock()
        self.stopping = threading.Event()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port-file", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--lifetime", type=float, default=900.0)
    args = parser.parse_args(argv)
    server = MockServer(args.log)
    return serve(server, args.port_file, args.lifetime, server.stopping)


def serve(
    server: ThreadingHTTPServer,
    port_file: Path,
    lifetime: float,
    stopping: threading.Event | None = None,
) -> int:
    """Publish the port (atomically, in `port_file`), serve until `lifetime` s have passed,
    then stop; `stopping` is set first, so handlers that wait can give up."""
    stopping = stopping or threading.Event()
    tmp = port_file.with_suffix(".tmp")
    tmp.write_text(str(server.server_address[1]))
    os.replace(tmp, port_file)

    def expire() -> None:
        stopping.set()
        server.shutdown()

    timer = threading.Timer(lifetime, expire)
    timer.daemon = True
    timer.start()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        stopping.set()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
