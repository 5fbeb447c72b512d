"""Our OpenAI-compatible adapter, through `dispatch`, against llama.cpp's real server with
SmolLM2-135M. Assertions are on the pipeline (statuses, usage, caps), never on the wisdom of
a 135M-parameter model."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import multi_model
from multi_model.config import EndpointSettings, Settings
from multi_model.demo import llama
from multi_model.models import Response
from multi_model.paths import user_config_path
from tests.conftest import run_mm
from tests.local import servers

PROMPT = "Reply with one short sentence: what colour is the sky?"


def ask(
    base_url: str,
    prompt: str = PROMPT,
    *,
    timeout: float = 120.0,
    max_tokens: int = 24,
    stream: bool = False,
    spec: str = "local",
) -> Response:
    endpoint = EndpointSettings(
        base_url=base_url, model=llama.MODEL, max_tokens=max_tokens, stream=stream
    )
    settings = Settings(endpoints={"local": endpoint})
    settings.retry.max_retries = 0
    [resp] = multi_model.dispatch([spec], prompt, settings=settings, env={}, timeout=timeout)
    return resp


def test_answer_usage_and_the_output_cap(llama_server: llama.Server) -> None:
    resp = ask(llama_server.base_url, max_tokens=8)
    assert resp.status == "ok", resp.error
    assert resp.text.strip() and resp.model_reported == llama.MODEL
    assert resp.usage and resp.usage.input_tokens and resp.usage.output_tokens
    assert 0 < resp.usage.output_tokens <= 8  # the cap was sent, and the server kept to it


def test_streamed_answer_is_joined_with_usage(llama_server: llama.Server) -> None:
    resp = ask(llama_server.base_url, max_tokens=8, stream=True)
    assert resp.status == "ok", resp.error
    assert resp.text.strip()
    assert resp.usage and 0 < (resp.usage.output_tokens or 0) <= 8


def test_slow_answer_times_out(llama_server: llama.Server) -> None:
    resp = ask(llama_server.base_url, "Write a long essay on the sea.", timeout=0.3, max_tokens=400)
    assert resp.status == "timeout"


def test_context_overflow_is_oversize(llama_server: llama.Server) -> None:
    resp = ask(llama_server.base_url, "sea " * 3000)  # a slot holds 2048 tokens
    assert resp.status == "oversize", resp.error
    assert "context size" in (resp.error or "")


def test_server_down_is_network() -> None:
    resp = ask(f"http://127.0.0.1:{servers.closed_port()}/v1", timeout=10)
    assert resp.status == "network", resp.error


def test_mm_models_lists_the_served_model_live(
    llama_server: llama.Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_config(f'[endpoints.local]\nbase_url = "{llama_server.base_url}"\n')
    monkeypatch.chdir(tmp_path)  # no project config from the working tree
    code, out, err = run_mm(capsys, "models", "local", "--json")
    assert code == 0, err
    assert json.loads(out) == [
        {"provider": "local", "live": True, "note": "", "models": [llama.MODEL]}
    ]


def write_config(text: str) -> None:
    """The user config of this test's MULTI_MODEL_HOME (tests/conftest.py isolates it)."""
    path = user_config_path(os.environ)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
