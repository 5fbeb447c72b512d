"""OpenAI-compatible endpoints: the /chat/completions request, reply and error reading, and
calls through dispatch against a scripted local server (tests/fakes/httpmock.py).

Reply bodies follow the OpenAI chat-completions format that LiteLLM, vLLM and llama.cpp serve."""

from __future__ import annotations

import json

import pytest

import multi_model
from multi_model import providers
from multi_model.config import EndpointSettings, Settings
from multi_model.models import HttpReply, Request
from multi_model.providers.http import error_message, retry_after
from multi_model.providers.openai_compat import OpenAICompat
from tests.fakes.clock import FakeClock
from tests.fakes.httpmock import HttpMock, closed_port_url

ANSWER = "MOCK_OK: hello from the mock model"
COMPLETION = {
    "id": "chatcmpl-123",
    "object": "chat.completion",
    "created": 1746000000,
    "model": "qwen2.5-coder-32b-instruct",
    "choices": [
        {
            "index": 0,
            "finish_reason": "stop",
            "logprobs": None,
            "message": {"role": "assistant", "content": ANSWER, "refusal": None},
        }
    ],
    "usage": {
        "prompt_tokens": 11,
        "completion_tokens": 9,
        "total_tokens": 20,
        "prompt_tokens_details": {"cached_tokens": 4, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 2},
    },
}


def endpoint(base_url: str = "http://127.0.0.1:4000/v1/", **kw: object) -> OpenAICompat:
    settings = EndpointSettings(base_url=base_url, **kw)  # type: ignore[arg-type]
    return OpenAICompat("local", settings)


def reply(status: int, body: object, **headers: str) -> HttpReply:
    text = body if isinstance(body, str) else json.dumps(body)
    return HttpReply(status=status, body=text, headers=headers)


def err(message: str) -> dict[str, object]:
    return {"error": {"message": message, "type": "invalid_request_error", "code": None}}


# --- request --------------------------------------------------------------------------------


def test_registry_makes_one_adapter_per_endpoint() -> None:
    settings = Settings(
        endpoints={"vllm": EndpointSettings(base_url="http://h:8000/v1", model="m1", models=["m2"])}
    )
    prov = providers.get("vllm", settings)
    assert isinstance(prov, OpenAICompat)
    assert (prov.name, prov.catalog) == ("vllm", ("m1", "m2"))


def test_build_posts_chat_completion_with_key() -> None:
    prov = endpoint(key_env="LOCAL_KEY")
    prompt = "  keep\n\n  this  "
    call = prov.build_http(Request(prompt=prompt, model="qwen"), {"LOCAL_KEY": "sk-local"})
    assert (call.method, call.url) == ("POST", "http://127.0.0.1:4000/v1/chat/completions")
    assert call.headers["Authorization"] == "Bearer sk-local"
    assert call.headers["Content-Type"] == "application/json"
    assert json.loads(call.body or b"") == {
        "model": "qwen",
        "messages": [{"role": "user", "content": prompt}],
        "stream": False,
    }


def test_no_key_env_sends_no_authorization_even_with_vendor_keys_around() -> None:
    call = endpoint().build_http(Request(prompt="p", model="m"), {"OPENAI_API_KEY": "sk-vendor"})
    assert "Authorization" not in call.headers


def test_endpoint_model_is_the_default() -> None:
    call = endpoint(model="llama-3.1-8b").build_http(Request(prompt="p"), {})
    assert json.loads(call.body or b"")["model"] == "llama-3.1-8b"


def test_preflight_key_variable_missing() -> None:
    parsed = endpoint(key_env="LOCAL_KEY").preflight(Request(prompt="p", model="m"), {})
    assert parsed is not None and parsed.status == "auth_required"
    assert "LOCAL_KEY" in (parsed.error or "")


def test_preflight_no_model() -> None:
    parsed = endpoint().preflight(Request(prompt="p"), {})
    assert parsed is not None and parsed.status == "model_not_found"
    assert "local:<model>" in (parsed.error or "")
    assert endpoint(model="m").preflight(Request(prompt="p"), {}) is None
    assert endpoint(key_env="K").preflight(Request(prompt="p", model="m"), {"K": "v"}) is None


def test_models_call_carries_the_key() -> None:
    call = endpoint(key_env="K").models_call({"K": "sk-1"})
    assert (call.method, call.url) == ("GET", "http://127.0.0.1:4000/v1/models")
    assert call.headers["Authorization"] == "Bearer sk-1"


# --- reply ----------------------------------------------------------------------------------


def test_parse_ok_keeps_text_usage_and_model() -> None:
    parsed = endpoint().parse_http(reply(200, COMPLETION))
    assert (parsed.status, parsed.text) == ("ok", ANSWER)
    assert parsed.model_reported == "qwen2.5-coder-32b-instruct"
    assert parsed.usage is not None
    assert parsed.usage.model_dump(exclude_none=True) == {
        "input_tokens": 11,
        "output_tokens": 9,
        "total_tokens": 20,
        "cached_input_tokens": 4,
        "reasoning_tokens": 2,
    }


def test_parse_keeps_whitespace_and_joins_content_parts_exactly() -> None:
    parts = [{"type": "text", "text": "  a\n"}, {"type": "text", "text": "\n b  "}]
    body = {**COMPLETION, "choices": [{"message": {"role": "assistant", "content": parts}}]}
    assert endpoint().parse_http(reply(200, body)).text == "  a\n\n b  "


def test_refusal() -> None:
    body = {
        **COMPLETION,
        "choices": [
            {
                "finish_reason": "stop",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "refusal": "I can't help with that.",
                },
            }
        ],
    }
    parsed = endpoint().parse_http(reply(200, body))
    assert (parsed.status, parsed.error) == ("refused", "I can't help with that.")


@pytest.mark.parametrize(
    "status, body, expected",
    [
        (401, err("Incorrect API key provided: sk-***"), "auth_required"),
        (403, err("Forbidden"), "auth_required"),
        (
            404,
            err("The model `gpt-x` does not exist or you do not have access to it."),
            "model_not_found",
        ),
        (400, err("Invalid model name passed in model=gpt-x"), "model_not_found"),
        (400, err("This model's maximum context length is 8192 tokens."), "oversize"),
        (429, err("Rate limit reached for requests"), "rate_limited"),
        (500, err("Internal server error"), "server_error"),
        (502, "<html>Bad Gateway</html>", "server_error"),
        (503, {"detail": "Service Unavailable"}, "server_error"),
        (200, err("upstream failed: 401 Unauthorized"), "auth_required"),
    ],
)
def test_http_errors_classified(status: int, body: object, expected: str) -> None:
    parsed = endpoint().parse_http(reply(status, body))
    assert parsed.status == expected
    assert parsed.error


def test_error_text_comes_from_openai_error_body() -> None:
    parsed = endpoint(key_env="LOCAL_KEY").parse_http(reply(401, err("Incorrect API key")))
    assert parsed.error == "HTTP 401: Incorrect API key (check LOCAL_KEY)"


@pytest.mark.parametrize(
    "body, expected",
    [
        (json.dumps(err("boom")), "boom"),
        ('{"error": "model \\"x\\" not found"}', 'model "x" not found'),
        ('{"detail": "Not Found"}', "Not Found"),
        ("plain text failure\n", "plain text failure"),
        ("", None),
    ],
)
def test_error_message(body: str, expected: str | None) -> None:
    assert error_message(body) == expected


@pytest.mark.parametrize(
    "headers, message, seconds",
    [
        ({"Retry-After": "7"}, "", 7.0),
        ({"retry-after": "1.5"}, "", 1.5),
        ({"retry-after-ms": "250", "Retry-After": "1"}, "", 0.25),
        (
            {
                "Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT",
                "Date": "Wed, 21 Oct 2015 07:28:00 GMT",
            },
            "",
            30.0,
        ),
        ({}, "Rate limit reached. Please try again in 20s.", 20.0),
        ({}, "Rate limit reached.", None),
    ],
)
def test_retry_after(headers: dict[str, str], message: str, seconds: float | None) -> None:
    assert retry_after(headers, message) == seconds


@pytest.mark.parametrize(
    "reply_, expected",
    [
        (HttpReply(status=0, error="[Errno 111] Connection refused"), "network"),
        (HttpReply(status=0, error="[Errno -3] Temporary failure in name resolution"), "network"),
        (HttpReply(status=0, error="timed out"), "timeout"),
    ],
)
def test_transport_failures(reply_: HttpReply, expected: str) -> None:
    assert endpoint().parse_http(reply_).status == expected


@pytest.mark.parametrize(
    "body, expected",
    [
        ("\x1b[1mnot json", "bad_output"),
        ('{"object": "chat.completion", "choices": []}', "bad_output"),
        ("", "empty_output"),
    ],
)
def test_no_completion_in_reply(body: str, expected: str) -> None:
    assert endpoint().parse_http(HttpReply(status=200, body=body)).status == expected


def test_parse_models_reply_reads_ids() -> None:
    models = {"object": "list", "data": [{"id": "qwen", "object": "model"}, {"id": "llama"}]}
    assert endpoint().parse_models_reply(reply(200, models)) == ["qwen", "llama"]
    assert endpoint().parse_models_reply(reply(200, "<html>")) == []


# --- through dispatch -----------------------------------------------------------------------


def ask(
    url: str,
    spec: str = "local:qwen",
    *,
    key_env: str | None = None,
    model: str | None = None,
    timeout: float | None = None,
    stream: bool = False,
    **env: str,
) -> multi_model.Response:
    local = EndpointSettings(base_url=f"{url}/v1", key_env=key_env, model=model, stream=stream)
    settings = Settings(endpoints={"local": local})
    [resp] = multi_model.dispatch(
        [spec],
        "say hi\n",
        settings=settings,
        timeout=timeout,
        env={"PATH": "/usr/bin:/bin", **env},
        clock=FakeClock(),
    )
    return resp


def test_dispatch_ok_sends_configured_key(http_mock: HttpMock) -> None:
    http_mock.reply("/v1/chat/completions", json=COMPLETION)
    resp = ask(http_mock.url, key_env="LOCAL_KEY", LOCAL_KEY="sk-local", OPENAI_API_KEY="sk-v")
    assert (resp.status, resp.text, resp.provider) == ("ok", ANSWER, "local")
    assert resp.usage and resp.usage.cached_input_tokens == 4
    assert resp.cli_used == f"{http_mock.url}/v1/chat/completions"
    [seen] = http_mock.seen()
    assert seen.header("Authorization") == "Bearer sk-local"
    assert seen.json == {
        "model": "qwen",
        "stream": False,
        "max_tokens": 4096,
        "messages": [{"role": "user", "content": "say hi\n"}],
    }


def test_dispatch_without_key_env_sends_no_key(http_mock: HttpMock) -> None:
    http_mock.reply("/v1/chat/completions", json=COMPLETION)
    resp = ask(http_mock.url, "local", model="llama-3.1-8b", OPENAI_API_KEY="sk-vendor")
    assert resp.status == "ok"
    [seen] = http_mock.seen()
    assert seen.header("Authorization") is None
    assert seen.json["model"] == "llama-3.1-8b"  # type: ignore[index]


@pytest.mark.parametrize(
    "status, body, expected",
    [
        (401, err("Invalid API key"), "auth_required"),
        (404, err("The model `qwen` does not exist"), "model_not_found"),
        (500, err("upstream crashed"), "server_error"),
    ],
)
def test_dispatch_http_errors(
    http_mock: HttpMock, status: int, body: object, expected: str
) -> None:
    http_mock.reply("/v1/chat/completions", status=status, json=body)
    resp = ask(http_mock.url, key_env="LOCAL_KEY", LOCAL_KEY="sk-wrong")
    assert (resp.status, resp.exit_code) == (expected, status)
    assert body["error"]["message"] in (resp.error or "")  # type: ignore[index]


def test_dispatch_rate_limit_reads_retry_after(http_mock: HttpMock) -> None:
    http_mock.reply(
        "/v1/chat/completions",
        status=429,
        json=err("Rate limit reached"),
        headers={"Retry-After": "17"},
    )
    resp = ask(http_mock.url)
    assert (resp.status, resp.retry_after_s) == ("rate_limited", 17.0)


def test_dispatch_slow_server_times_out(http_mock: HttpMock) -> None:
    http_mock.reply("/v1/chat/completions", json=COMPLETION, delay=10)
    resp = ask(http_mock.url, timeout=1)
    assert resp.status == "timeout"
    assert resp.duration_s < 5


def test_dispatch_endpoint_timeout_setting_applies(http_mock: HttpMock) -> None:
    http_mock.reply("/v1/chat/completions", json=COMPLETION, delay=10)
    settings = Settings(
        endpoints={"local": EndpointSettings(base_url=f"{http_mock.url}/v1", model="m", timeout=1)}
    )
    [resp] = multi_model.dispatch(["local"], "p", settings=settings, env={})
    assert resp.status == "timeout"


def test_dispatch_connection_refused_is_network() -> None:
    resp = ask(closed_port_url())
    assert resp.status == "network"
    assert "refused" in (resp.error or "").lower()


def test_dispatch_key_variable_missing_asks_nothing(http_mock: HttpMock) -> None:
    resp = ask(http_mock.url, key_env="LOCAL_KEY", OPENAI_API_KEY="sk-vendor")
    assert resp.status == "auth_required"
    assert "LOCAL_KEY" in (resp.error or "")
    assert http_mock.seen() == []


def test_dispatch_no_model_asks_nothing(http_mock: HttpMock) -> None:
    resp = ask(http_mock.url, "local")
    assert resp.status == "model_not_found"
    assert http_mock.seen() == []


# --- output cap, streaming, and what real servers say (recorded from llama.cpp's server
# through xllamacpp 2026.10.11549 and the LiteLLM proxy 1.106.12 without a database) ---------

LITELLM_NO_DB = {
    "error": {
        "message": "No connected db.",
        "type": "no_db_connection",
        "param": None,
        "code": "400",
    }
}
LLAMA_CONTEXT = {
    "error": {
        "code": 400,
        "message": "request (2031 tokens) exceeds the available context size (1536 tokens), "
        "try increasing it",
        "type": "exceed_context_size_error",
        "n_prompt_tokens": 2031,
        "n_ctx": 1536,
    }
}
LITELLM_BACKEND_DOWN = {
    "error": {
        "message": "litellm.InternalServerError: InternalServerError: OpenAIException - "
        "Connection error.\n\nLiteLLM: model group 'smol' failed with the error above. No "
        "fallback was attempted.",
        "type": "internal_server_error",
        "param": None,
        "code": "500",
    }
}
SSE = (
    'data: {"choices":[{"finish_reason":null,"index":0,"delta":{"role":"assistant",'
    '"content":null}}],"created":1,"id":"c","model":"smollm2","object":"chat.completion.chunk"}\n\n'
    'data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":"  Blue"}}],'
    '"model":"smollm2","object":"chat.completion.chunk"}\n\n'
    'data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":" sky.\\n"}}],'
    '"model":"smollm2","object":"chat.completion.chunk"}\n\n'
    'data: {"choices":[{"finish_reason":"length","index":0,"delta":{}}],"model":"smollm2",'
    '"object":"chat.completion.chunk"}\n\n'
    'data: {"choices":[],"model":"smollm2","object":"chat.completion.chunk","usage":'
    '{"completion_tokens":3,"prompt_tokens":33,"total_tokens":36}}\n\n'
    "data: [DONE]\n\n"
)


def test_max_tokens_is_sent_when_the_request_has_one() -> None:
    call = endpoint().build_http(Request(prompt="hi", model="m", max_tokens=64), {})
    assert json.loads(call.body or b"")["max_tokens"] == 64


def test_max_tokens_per_endpoint_else_the_default() -> None:
    settings = Settings(
        max_tokens=900,
        endpoints={
            "capped": EndpointSettings(base_url="http://h/v1", max_tokens=32),
            "plain": EndpointSettings(base_url="http://h/v1"),
        },
    )
    assert (settings.max_tokens_for("capped"), settings.max_tokens_for("plain")) == (32, 900)
    assert Settings().max_tokens_for("plain") == 4096


def test_litellm_wrong_key_without_db_is_auth_required() -> None:
    parsed = endpoint(key_env="LITELLM_KEY").parse_http(reply(400, LITELLM_NO_DB))
    assert parsed.status == "auth_required"
    assert "No connected db." in (parsed.error or "") and "LITELLM_KEY" in (parsed.error or "")


def test_llama_cpp_context_overflow_is_oversize() -> None:
    assert endpoint().parse_http(reply(400, LLAMA_CONTEXT)).status == "oversize"


def test_proxy_backend_down_is_network() -> None:
    parsed = endpoint().parse_http(reply(500, LITELLM_BACKEND_DOWN))
    assert parsed.status == "network"
    assert "could not reach the model behind it" in (parsed.error or "")
    assert endpoint().parse_http(reply(500, "Internal Server Error")).status == "server_error"


def test_stream_option_asks_for_sse_with_usage() -> None:
    call = endpoint(stream=True).build_http(Request(prompt="hi", model="m"), {})
    body = json.loads(call.body or b"")
    assert (body["stream"], body["stream_options"]) == (True, {"include_usage": True})
    assert call.headers["Accept"] == "text/event-stream"


def test_streamed_reply_is_joined_exactly_with_usage() -> None:
    parsed = endpoint().parse_http(reply(200, SSE, **{"Content-Type": "text/event-stream"}))
    assert (parsed.status, parsed.text, parsed.model_reported) == ("ok", "  Blue sky.\n", "smollm2")
    assert parsed.usage and (parsed.usage.input_tokens, parsed.usage.output_tokens) == (33, 3)


def test_streamed_error_event_is_classified() -> None:
    body = 'data: {"error": {"message": "No connected db.", "type": "no_db_connection"}}\n\n'
    assert endpoint().parse_http(reply(200, body)).status == "auth_required"
    assert endpoint().parse_http(reply(200, "data: [DONE]\n\n")).status == "bad_output"


def test_dispatch_streams_from_a_server(http_mock: HttpMock) -> None:
    http_mock.reply("/v1/chat/completions", body=SSE, headers={"Content-Type": "text/event-stream"})
    resp = ask(http_mock.url, "local", model="smollm2", stream=True)
    assert (resp.status, resp.text) == ("ok", "  Blue sky.\n")
    [seen] = http_mock.seen()
    assert seen.json["stream"] is True  # type: ignore[index]
