"""`mm models` / `catalog.list_models` for the HTTP providers: live lists from a scripted server
(ollama /api/tags, an endpoint's /models), the built-in catalog when the server is down."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from multi_model.catalog import list_models
from multi_model.cli import main
from multi_model.config import EndpointSettings, Settings
from multi_model.errors import UnknownProvider
from multi_model.providers.ollama import Ollama
from tests.fakes.httpmock import HttpMock, closed_port_url

TAGS = {
    "models": [
        {
            "name": "llama3.2:latest",
            "model": "llama3.2:latest",
            "size": 2019393189,
            "details": {"family": "llama", "parameter_size": "3.2B"},
        },
        {"name": "qwen2.5-coder:7b", "model": "qwen2.5-coder:7b", "size": 4683087332},
    ]
}
MODELS = {
    "object": "list",
    "data": [
        {"id": "qwen-coder", "object": "model", "owned_by": "me"},
        {"id": "llama-3.1-8b", "object": "model"},
    ],
}


def test_ollama_live_tags(http_mock: HttpMock) -> None:
    http_mock.reply("/api/tags", json=TAGS)
    [listing] = list_models(Settings(), {"OLLAMA_HOST": http_mock.url}, "ollama")
    assert listing.as_dict() == {
        "provider": "ollama",
        "live": True,
        "note": "",
        "models": ["llama3.2:latest", "qwen2.5-coder:7b"],
    }
    assert [(s.method, s.path) for s in http_mock.seen()] == [("GET", "/api/tags")]


def test_ollama_down_falls_back_to_catalog() -> None:
    [listing] = list_models(Settings(), {"OLLAMA_HOST": closed_port_url()}, "ollama")
    assert (listing.live, listing.models) == (False, list(Ollama.catalog))
    assert "refused" in listing.note.lower()


def test_endpoint_live_models_with_key(http_mock: HttpMock) -> None:
    http_mock.reply("/v1/models", json=MODELS)
    settings = Settings(
        endpoints={"lite": EndpointSettings(base_url=f"{http_mock.url}/v1", key_env="LITE_KEY")}
    )
    [listing] = list_models(settings, {"LITE_KEY": "sk-lite"}, "lite")
    assert (listing.provider, listing.live, listing.models) == (
        "lite",
        True,
        ["qwen-coder", "llama-3.1-8b"],
    )
    [seen] = http_mock.seen()
    assert (seen.path, seen.header("Authorization")) == ("/v1/models", "Bearer sk-lite")


def test_endpoint_refusing_the_key_lists_configured_models(http_mock: HttpMock) -> None:
    http_mock.reply("/v1/models", status=401, json={"error": {"message": "bad key"}})
    settings = Settings(
        endpoints={
            "lite": EndpointSettings(base_url=f"{http_mock.url}/v1", model="a", models=["b", "a"])
        }
    )
    [listing] = list_models(settings, {}, "lite")
    assert (listing.live, listing.models) == (False, ["a", "b"])
    assert "HTTP 401" in listing.note


def test_unknown_provider_raises() -> None:
    with pytest.raises(UnknownProvider):
        list_models(Settings(), {}, "nope")


def test_mm_models_ollama_json(
    http_mock: HttpMock,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    http_mock.reply("/api/tags", json=TAGS)
    monkeypatch.setenv("OLLAMA_HOST", http_mock.url)
    monkeypatch.chdir(tmp_path)  # no project config from the working tree
    assert main(["models", "ollama", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {
            "provider": "ollama",
            "live": True,
            "note": "",
            "models": ["llama3.2:latest", "qwen2.5-coder:7b"],
        }
    ]


def test_mm_models_ollama_text_when_down(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", closed_port_url())
    monkeypatch.chdir(tmp_path)
    assert main(["models", "ollama"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("ollama (built-in catalog; server: ")
    assert f"  {Ollama.catalog[0]}\n" in out
