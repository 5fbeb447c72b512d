"""ollama adapter: the /api/chat request, reply and error reading, and calls through dispatch
against a scripted local server (tests/fakes/httpmock.py).

Reply bodies follow Ollama's documented /api/chat and /api/tags formats (no ollama binary or
recording exists in this environment)."""

from __future__ import annotations

import json

import pytest

import multi_model
from multi_model.config import ProviderSettings, Settings
from multi_model.models import HttpReply, Request
from multi_model.providers import builtin
from multi_model.providers.ollama import ollama_url
from tests.fakes.clock import FakeClock
from tests.fakes.httpmock import HttpMock, closed_port_url

ollama = builtin("ollama")
ANSWER = "MOCK_OK: hello from the mock model"
CHAT_OK = {
    "model": "llama3.2:latest",
    "created_at": "2025-05-01T10:00:00.000000Z",
    "message": {"role": "assistant", "content": ANSWER},
    "done_reason": "stop",
    "done": True,
    "total_duration": 5191566416,
    "load_duration": 2154458,
    "prompt_eval_count": 26,
    "prompt_eval_duration": 383809000,
    "eval_count": 9,
    "eval_duration": 4799921000,
}
NOT_FOUND = {"error": 'model "nope:7b" not found, try pulling it first'}


def reply(status: int, body: object, **headers: str) -> HttpReply:
    text = body if isinstance(body, str) else json.dumps(body)
    return HttpReply(status=status, body=text, headers=headers)


# --- request --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, url",
    [
        (None, "http://127.0.0.1:11434"),
        ("", "http://127.0.0.1:11434"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("0.0.0.0:11500", "http://127.0.0.1:11500"),
        ("gpu-box:11434", "http://gpu-box:11434"),
        ("localhost", "http://localhost:11434"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://gpu-box", "http://gpu-box:80"),
        ("https://ollama.internal", "https://ollama.internal:443"),
        ("https://proxy.internal:8443/ollama/", "https://proxy.internal:8443/ollama"),
        ("[::]:11434", "http://[::1]:11434"),
        ("::1", "http://[::1]:11434"),
        ("ollama.com", "https://ollama.com:443"),
    ],
)
def test_ollama_host_forms(value: str | None, url: str) -> None:
    assert ollama_url(value) == url


def test_build_posts_chat_without_streaming() -> None:
    prompt = "  line one\n\n\tindented  \n"
    call = ollama.build_http(Request(prompt=prompt, model="qwen2.5-coder:7b"), {"PATH": "/x"})
    assert (call.method, call.url) == ("POST", "http://127.0.0.1:11434/api/chat")
    assert call.headers["Content-Type"] == "application/json"
    assert "Authorization" not in call.headers
    assert json.loads(call.body or b"") == {
        "model": "qwen2.5-coder:7b",
        "messages": [{"role": "user", "content": prompt}],
        "stream": False,
    }


def test_build_uses_ollama_host_from_env() -> None:
    call = ollama.build_http(Request(prompt="p", model="m"), {"OLLAMA_HOST": "0.0.0.0:9999"})
    assert call.url == "http://127.0.0.1:9999/api/chat"
    assert ollama.base_url({"OLLAMA_HOST": "0.0.0.0:9999"}) == "http://127.0.0.1:9999"


def test_preflight_requires_a_model() -> None:
    parsed = ollama.preflight(Request(prompt="p"), {})
    assert parsed is not None and parsed.status == "model_not_found"
    assert "ollama:<tag>" in (parsed.error or "") and "mm models ollama" in (parsed.error or "")
    assert ollama.preflight(Request(prompt="p", model="llama3.2"), {}) is None


def test_models_call_lists_tags() -> None:
    call = ollama.models_call({"OLLAMA_HOST": "http://127.0.0.1:5000"})
    assert (call.method, call.url) == ("GET", "http://127.0.0.1:5000/api/tags")


# --- reply ----------------------------------------------------------------------------------


def test_parse_ok_keeps_text_usage_and_model() -> None:
    parsed = ollama.parse_http(reply(200, CHAT_OK))
    assert parsed.status == "ok"
    assert parsed.text == ANSWER
    assert parsed.model_reported == "llama3.2:latest"
    assert parsed.usage and (parsed.usage.input_tokens, parsed.usage.output_tokens) == (26, 9)


def test_parse_keeps_whitespace_exactly() -> None:
    text = "\n  ```py\n    x = 1\n  ```\n\n"
    body = {**CHAT_OK, "message": {"role": "assistant", "content": text}}
    assert ollama.parse_http(reply(200, body)).text == text


def test_missing_model_says_how_to_pull_but_never_pulls() -> None:
    parsed = ollama.parse_http(reply(404, NOT_FOUND))
    assert parsed.status == "model_not_found"
    assert 'model "nope:7b" not found' in (parsed.error or "")
    assert "ollama pull nope:7b" in (parsed.error or "")


def test_model_is_required_names_the_fix() -> None:
    parsed = ollama.parse_http(reply(400, {"error": "model is required"}))
    assert parsed.status == "model_not_found"
    assert "ollama:<tag>" in (parsed.error or "")


@pytest.mark.parametrize(
    "status, body, expected",
    [
        (401, {"error": "unauthorized"}, "auth_required"),
        (403, {"error": "forbidden"}, "auth_required"),
        (429, {"error": "too many requests"}, "rate_limited"),
        (
            500,
            {"error": "model requires more system memory (9.1 GiB) than is available (4 GiB)"},
            "server_error",
        ),
        (503, "service unavailable", "server_error"),
        (400, {"error": "input length exceeds the context length"}, "oversize"),
        (200, {"error": "an error was encountered while running the model"}, "crashed"),
    ],
)
def test_http_errors_classified(status: int, body: object, expected: str) -> None:
    parsed = ollama.parse_http(reply(status, body))
    assert parsed.status == expected
    assert parsed.error


def test_rate_limit_reads_retry_after() -> None:
    parsed = ollama.parse_http(reply(429, {"error": "too many requests"}, **{"Retry-After": "30"}))
    assert (parsed.status, parsed.retry_after_s) == ("rate_limited", 30.0)


def test_refused_connection_means_no_server() -> None:
    parsed = ollama.parse_http(HttpReply(status=0, error="[Errno 111] Connection refused"))
    assert parsed.status == "not_installed"
    assert "no Ollama server" in (parsed.error or "") and "ollama serve" in (parsed.error or "")


@pytest.mark.parametrize(
    "reply_, expected",
    [
        (HttpReply(status=0, error="[Errno -2] Name or service not known"), "network"),
        (HttpReply(status=0, error="Remote end closed connection without response"), "network"),
        (HttpReply(status=0, error="timed out"), "timeout"),
        (HttpReply(status=0, timed_out=True), "timeout"),
    ],
)
def test_other_transport_failures(reply_: HttpReply, expected: str) -> None:
    assert ollama.parse_http(reply_).status == expected


@pytest.mark.parametrize(
    "body, expected",
    [
        ("<html>\x1b[31mnot json</html>", "bad_output"),
        ('{"model": "llama3.2", "done": true}', "bad_output"),
        ("", "empty_output"),
    ],
)
def test_no_answer_in_reply(body: str, expected: str) -> None:
    parsed = ollama.parse_http(HttpReply(status=200, body=body))
    assert parsed.status == expected
    assert parsed.error


def test_parse_models_reply_reads_tag_names() -> None:
    tags = {
        "models": [
            {"name": "llama3.2:latest", "model": "llama3.2:latest", "size": 1},
            {"name": "qwen2.5-coder:7b", "model": "qwen2.5-coder:7b"},
        ]
    }
    assert ollama.parse_models_reply(reply(200, tags)) == ["llama3.2:latest", "qwen2.5-coder:7b"]
    assert ollama.parse_models_reply(reply(200, "garbage")) == []


# --- through dispatch -----------------------------------------------------------------------


def ask(
    mock_url: str,
    *specs: str,
    prompt: str = "say hi",
    settings: Settings | None = None,
    timeout: float | None = None,
) -> list[multi_model.Response]:
    return multi_model.dispatch(
        list(specs),
        prompt,
        settings=settings or Settings(),
        env={"OLLAMA_HOST": mock_url, "PATH": "/usr/bin:/bin"},
        timeout=timeout,
        clock=FakeClock(),
    )


def test_dispatch_ok(http_mock: HttpMock) -> None:
    http_mock.reply("/api/chat", json=CHAT_OK)
    [resp] = ask(http_mock.url, "ollama:llama3.2", prompt="hi\n  there  ")
    assert (resp.status, resp.text, resp.provider) == ("ok", ANSWER, "ollama")
    assert resp.cli_used == f"{http_mock.url}/api/chat"
    assert resp.model_reported == "llama3.2:latest"
    assert resp.usage and resp.usage.output_tokens == 9
    [seen] = http_mock.seen()
    assert (seen.method, seen.path) == ("POST", "/api/chat")
    assert seen.json == {
        "model": "llama3.2",
        "stream": False,
        "options": {"num_predict": 4096},
        "messages": [{"role": "user", "content": "hi\n  there  "}],
    }
    assert seen.header("Authorization") is None


def test_dispatch_keeps_tag_after_colon_and_uses_configured_model(http_mock: HttpMock) -> None:
    http_mock.reply("/api/chat", json=CHAT_OK)
    settings = Settings(providers={"ollama": ProviderSettings(model="gemma3:4b")})
    ask(http_mock.url, "ollama:llama3:8b", "ollama", settings=settings)
    models = sorted(s.json["model"] for s in http_mock.seen())  # type: ignore[index]
    assert models == ["gemma3:4b", "llama3:8b"]


def test_dispatch_missing_model_is_not_pulled(http_mock: HttpMock) -> None:
    http_mock.reply("/api/chat", status=404, json=NOT_FOUND)
    [resp] = ask(http_mock.url, "ollama:nope:7b")
    assert resp.status == "model_not_found"
    assert "ollama pull nope:7b" in (resp.error or "")
    assert [s.path for s in http_mock.seen()] == ["/api/chat"]


def test_dispatch_server_error(http_mock: HttpMock) -> None:
    http_mock.reply("/api/chat", status=500, json={"error": "llama runner process has terminated"})
    [resp] = ask(http_mock.url, "ollama:llama3.2")
    assert (resp.status, resp.exit_code) == ("server_error", 500)
    assert "llama runner process has terminated" in (resp.error or "")


def test_dispatch_empty_answer(http_mock: HttpMock) -> None:
    http_mock.reply("/api/chat", json={**CHAT_OK, "message": {"role": "assistant", "content": ""}})
    [resp] = ask(http_mock.url, "ollama:llama3.2")
    assert resp.status == "empty_output"


def test_dispatch_slow_server_times_out(http_mock: HttpMock) -> None:
    http_mock.reply("/api/chat", json=CHAT_OK, delay=10)
    [resp] = ask(http_mock.url, "ollama:llama3.2", timeout=1)
    assert resp.status == "timeout"
    assert resp.duration_s < 5


def test_dispatch_no_server_is_not_installed() -> None:
    url = closed_port_url()
    [resp] = ask(url, "ollama:llama3.2")
    assert resp.status == "not_installed"
    assert "ollama serve" in (resp.error or "")
    assert resp.cli_used == f"{url}/api/chat"


def test_dispatch_without_model_asks_nothing(http_mock: HttpMock) -> None:
    [resp] = ask(http_mock.url, "ollama")
    assert resp.status == "model_not_found"
    assert "ollama:<tag>" in (resp.error or "")
    assert http_mock.seen() == []


# --- the output cap, and what a real Ollama (or another server) answers ---------------------
# Bodies as ollama's server/routes.go writes them (gin: `c.JSON(404, gin.H{"error": ...})`):
# handleScheduleError's `model %q not found, try pulling it first`, ChatHandler's newer
# `model '%s' not found`, and gin's own plain-text 404 for a path it does not serve. The
# other servers' 404s were recorded from llama.cpp's server (xllamacpp 2026.10.11549) and
# the LiteLLM proxy 1.106.12 (FastAPI) when asked for /api/chat.
OLLAMA_404S = [
    {"error": 'model "smollm2:135m" not found, try pulling it first'},
    {"error": "model 'smollm2:135m' not found"},
]
NOT_OLLAMA_404S = [
    {"error": {"message": "File Not Found", "type": "not_found_error", "code": 404}},
    {"detail": "Not Found"},
    "404 page not found",
]


def test_build_sends_the_output_cap_as_num_predict() -> None:
    call = ollama.build_http(Request(prompt="hi", model="llama3.2", max_tokens=77), {})
    assert json.loads(call.body or b"")["options"] == {"num_predict": 77}


def test_dispatch_sends_the_configured_cap(http_mock: HttpMock) -> None:
    http_mock.reply("/api/chat", json=CHAT_OK)
    settings = Settings(providers={"ollama": ProviderSettings(max_tokens=123)})
    ask(http_mock.url, "ollama:llama3.2", settings=settings)
    [seen] = http_mock.seen()
    assert seen.json["options"] == {"num_predict": 123}  # type: ignore[index]


@pytest.mark.parametrize("body", OLLAMA_404S)
def test_real_ollama_missing_model_says_pull(http_mock: HttpMock, body: object) -> None:
    http_mock.reply("/api/chat", status=404, json=body)
    [resp] = ask(http_mock.url, "ollama:smollm2:135m")
    assert resp.status == "model_not_found"
    assert "run `ollama pull smollm2:135m` yourself" in (resp.error or "")


@pytest.mark.parametrize("body", NOT_OLLAMA_404S)
def test_a_server_that_is_not_ollama_is_named_so(http_mock: HttpMock, body: object) -> None:
    if isinstance(body, str):
        http_mock.reply("/api/chat", status=404, body=body)
    else:
        http_mock.reply("/api/chat", status=404, json=body)
    [resp] = ask(http_mock.url, "ollama:llama3.2")
    assert resp.status == "not_installed"
    assert "is not Ollama" in (resp.error or "") and "ollama pull" not in (resp.error or "")
