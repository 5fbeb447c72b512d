"""Our OpenAI-compatible adapter against the real LiteLLM proxy (no database, a master key)
in front of llama.cpp's server: the statuses a user of a proxy sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import multi_model
from multi_model.config import EndpointSettings, Settings
from multi_model.models import Response
from tests.conftest import run_mm
from tests.local import servers
from tests.local.test_llama import write_config


def ask(proxy: servers.Proxy, model: str, key: str = servers.PROXY_KEY, **kw: object) -> Response:
    endpoint = EndpointSettings(
        base_url=proxy.base_url, key_env="LITELLM_KEY", model=model, max_tokens=8, **kw
    )  # type: ignore[arg-type]
    settings = Settings(endpoints={"lite": endpoint})
    settings.retry.max_retries = 0
    env = {"LITELLM_KEY": key}
    [resp] = multi_model.dispatch(["lite"], "Say hi.", settings=settings, env=env, timeout=120)
    return resp


def test_answer_through_the_proxy(litellm_proxy: servers.Proxy) -> None:
    resp = ask(litellm_proxy, servers.PROXY_MODEL)
    assert resp.status == "ok", resp.error
    assert resp.text.strip() and resp.model_reported == servers.PROXY_MODEL
    assert resp.usage and 0 < (resp.usage.output_tokens or 0) <= 8


def test_streamed_answer_through_the_proxy(litellm_proxy: servers.Proxy) -> None:
    resp = ask(litellm_proxy, servers.PROXY_MODEL, stream=True)
    assert resp.status == "ok", resp.error
    assert resp.text.strip() and resp.usage and resp.usage.output_tokens


def test_wrong_key_is_auth_required(litellm_proxy: servers.Proxy) -> None:
    resp = ask(litellm_proxy, servers.PROXY_MODEL, key="sk-wrong-0123456789")
    assert resp.status == "auth_required", resp.error
    assert "No connected db." in (resp.error or "") and "LITELLM_KEY" in (resp.error or "")


def test_unknown_model_is_model_not_found(litellm_proxy: servers.Proxy) -> None:
    resp = ask(litellm_proxy, "no-such-model")
    assert resp.status == "model_not_found", resp.error


def test_backend_down_behind_the_proxy_is_network(litellm_proxy: servers.Proxy) -> None:
    resp = ask(litellm_proxy, servers.DEAD_MODEL)
    assert resp.status == "network", resp.error
    assert resp.exit_code == 500


def test_mm_models_lists_the_proxy_models_live(
    litellm_proxy: servers.Proxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_config(
        f'[endpoints.lite]\nbase_url = "{litellm_proxy.base_url}"\nkey_env = "LITELLM_KEY"\n'
    )
    monkeypatch.setenv("LITELLM_KEY", servers.PROXY_KEY)
    monkeypatch.chdir(tmp_path)
    code, out, err = run_mm(capsys, "models", "lite", "--json")
    assert code == 0, err
    [listing] = json.loads(out)
    assert listing["live"] is True
    assert sorted(listing["models"]) == sorted([servers.PROXY_MODEL, servers.DEAD_MODEL])
