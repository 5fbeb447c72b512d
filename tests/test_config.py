"""Settings: layered precedence with sources, validation errors name the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from multi_model.commands.config import resolved_view
from multi_model.config import (
    data_dir,
    load_settings,
    project_config_path,
    user_config_path,
)
from multi_model.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_without_files(tmp_path: Path) -> None:
    loaded = load_settings(tmp_path, {"MULTI_MODEL_HOME": str(tmp_path / "h")})
    assert loaded.settings.timeout == 300
    assert loaded.sources == {}


def test_layers_and_sources(tmp_path: Path) -> None:
    env = {"MULTI_MODEL_HOME": str(tmp_path / "h"), "OLLAMA_HOST": "127.0.0.1:9999"}
    user = write(
        tmp_path / "h" / "config.toml",
        'timeout = 120\nprobe_timeout = 4\n[providers.codex]\nmodel = "gpt-5.4"\n',
    )
    project_dir = tmp_path / "repo" / "sub"
    project_dir.mkdir(parents=True)
    project = write(
        tmp_path / "repo" / ".claude" / "multi-model.toml",
        "timeout = 60\n[providers.codex]\ntimeout = 42\n",
    )
    loaded = load_settings(project_dir, env, flags={"probe_timeout": 1.5})
    s = loaded.settings
    assert (s.timeout, s.probe_timeout, s.ollama_host) == (60, 1.5, "127.0.0.1:9999")
    assert s.provider("codex").model == "gpt-5.4" and s.provider("codex").timeout == 42
    assert loaded.sources["timeout"] == str(project)
    assert loaded.sources["providers.codex.model"] == str(user)
    assert loaded.sources["ollama_host"] == "env OLLAMA_HOST"
    assert loaded.sources["probe_timeout"] == "flag"
    view = {key: source for key, _, source in resolved_view(loaded)}
    assert view["output_cap_mb"] == "default" and view["timeout"] == str(project)


def test_invalid_value_names_file_and_key(tmp_path: Path) -> None:
    env = {"MULTI_MODEL_HOME": str(tmp_path)}
    bad = write(tmp_path / "config.toml", "timeout = -1\n")
    with pytest.raises(ConfigError, match=rf"{bad}: timeout"):
        load_settings(tmp_path, env)


def test_unknown_key_is_rejected(tmp_path: Path) -> None:
    write(tmp_path / "config.toml", "[providers.codex]\nbinray = 'x'\n")
    with pytest.raises(ConfigError, match="binray"):
        load_settings(tmp_path, {"MULTI_MODEL_HOME": str(tmp_path)})


def test_broken_toml_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path / "config.toml", "timeout = = 3\n")
    with pytest.raises(ConfigError, match=r"config\.toml"):
        load_settings(tmp_path, {"MULTI_MODEL_HOME": str(tmp_path)})


def test_paths_follow_home_override_and_xdg(tmp_path: Path) -> None:
    assert user_config_path({"MULTI_MODEL_HOME": "/m"}) == Path("/m/config.toml")
    assert data_dir({"MULTI_MODEL_HOME": "/m"}) == Path("/m/data")
    xdg = {"HOME": "/u", "XDG_CONFIG_HOME": "/c", "XDG_DATA_HOME": "/d"}
    assert user_config_path(xdg) == Path("/c/multi-model/config.toml")
    assert data_dir(xdg) == Path("/d/multi-model")
    assert user_config_path({"HOME": "/u"}) == Path("/u/.config/multi-model/config.toml")
    assert project_config_path(tmp_path) is None


@pytest.mark.parametrize(
    "text",
    [
        '[providers.codex]\nargs = ["--dangerously-bypass-approvals-and-sandbox"]\n',
        '[providers.codex]\nbinary = "./evil"\n',
        "[providers.codex]\nallow_writes = true\n",
        '[providers.codex]\nenv = ["*"]\n',
        '[endpoints.x]\nbase_url = "http://127.0.0.1:1/v1"\nkey_env = "OPENAI_API_KEY"\n',
        'ollama_host = "10.0.0.1:11434"\n',
        "allow_claude_cli = true\n",
    ],
)
def test_project_file_cannot_change_what_runs_or_where_keys_go(tmp_path: Path, text: str) -> None:
    write(tmp_path / "repo" / ".claude" / "multi-model.toml", text)
    with pytest.raises(ConfigError, match="may only be set in the user config"):
        load_settings(tmp_path / "repo", {"MULTI_MODEL_HOME": str(tmp_path / "h")})


def test_project_file_may_set_routing_data(tmp_path: Path) -> None:
    write(
        tmp_path / "repo" / ".claude" / "multi-model.toml",
        'timeout = 30\n[[routes]]\nmatch = "x.*"\nproviders = ["codex"]\n'
        '[providers.ollama]\nmodels = ["llama3.1:8b"]\nmodel = "llama3.1:8b"\n',
    )
    s = load_settings(tmp_path / "repo", {"MULTI_MODEL_HOME": str(tmp_path / "h")}).settings
    assert s.timeout == 30 and s.routes[0].providers == ["codex"]
    assert s.provider("ollama").models == ["llama3.1:8b"]
