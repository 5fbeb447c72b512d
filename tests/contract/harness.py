"""How each real CLI is pointed at the mock server: the config files and environment a user
with a self-hosted endpoint would have, in a fresh HOME, with telemetry and update checks
off and the CLI's own retries capped (several retry rate limits for minutes by default).

The call itself always goes through `multi_model.dispatch`, i.e. our adapter and runner;
the harness only supplies the user's side: HOME, config files, env, binary path.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from multi_model.config import ProviderSettings, RetrySettings, Settings
from tests.contract.mockserver import SCENARIOS

ROOT = Path(__file__).resolve().parent
PINS: dict[str, dict[str, str]] = {
    k: v for k, v in json.loads((ROOT / "clis.json").read_text()).items() if not k.startswith("_")
}
CLIS = [name for name in PINS if "@" not in name]
"""One pin per provider CLI; `NAME@LABEL` pins are further releases of NAME (the plugin suite
runs on every Claude Code release pinned)."""


def releases(name: str) -> list[str]:
    """The pin names of `name`'s releases: `name` first (the oldest supported), then the rest."""
    return [name, *(pin for pin in PINS if pin.startswith(name + "@"))]


MOCK_KEY = "sk-mock-0123456789abcdef"  # long: copilot masks short secrets inside its JSON output


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "multi-model" / "test-clis"
    return Path(os.environ.get("MM_CLI_CACHE") or default)


def binary(name: str) -> Path:
    """The installed binary of pin `name` (a CLI, or `CLI@LABEL` for another release)."""
    pin = PINS[name]
    folder = f"{name.split('@')[0]}-{pin['version']}"
    return cache_dir() / folder / "node_modules" / ".bin" / pin["bin"]


@dataclass
class Setup:
    """What one test run of one CLI gets."""

    env: dict[str, str]
    passthrough: list[str] = field(default_factory=list)
    model_prefix: str = ""
    settings: dict[str, object] = field(default_factory=dict)

    def model(self, scenario: str) -> str:
        return f"{self.model_prefix}mock-{scenario}"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def codex(home: Path, url: str, shared: Path) -> Setup:
    codex_home = home / ".codex"
    _write(
        codex_home / "config.toml",
        f"""
model_provider = "mock"
check_for_update_on_startup = false
[analytics]
enabled = false
[features]
plugins = false
unbounded_connection_retries = false
[model_providers.mock]
name = "Mock"
base_url = "{url}/v1"
env_key = "MOCK_API_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0
stream_idle_timeout_ms = 5000
""",
    )
    return Setup(
        env={"CODEX_HOME": str(codex_home), "MOCK_API_KEY": MOCK_KEY}, passthrough=["MOCK_API_KEY"]
    )


def gemini(home: Path, url: str, shared: Path) -> Setup:
    _write(
        home / ".gemini" / "settings.json",
        json.dumps(
            {
                "security": {"auth": {"selectedType": "gemini-api-key"}},
                "privacy": {"usageStatisticsEnabled": False},
                "telemetry": {"enabled": False},
                "general": {
                    "enableAutoUpdate": False,
                    "enableAutoUpdateNotification": False,
                    "maxAttempts": 1,
                },
            }
        ),
    )
    return Setup(env={"GEMINI_API_KEY": MOCK_KEY, "GOOGLE_GEMINI_BASE_URL": url})


def qwen(home: Path, url: str, shared: Path) -> Setup:
    # maxRetries only reaches the OpenAI SDK client (default 3: a 500 costs 28 requests, with
    # 0 it costs 7) and the rate-limit stream loop. qwen 0.24.4's own retryWithBackoff around
    # each request (7 attempts, 1.5 s doubling to 30 s, +-30% jitter: ~77 s) has no setting,
    # env var or flag, and a dropped connection replays it twice more (21 requests, ~4 min).
    _write(
        home / ".qwen" / "settings.json",
        json.dumps(
            {
                "privacy": {"usageStatisticsEnabled": False},
                "telemetry": {"enabled": False},
                "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
                "model": {"generationConfig": {"maxRetries": 0, "timeout": 60000}},
            }
        ),
    )
    return Setup(
        env={"OPENAI_API_KEY": MOCK_KEY, "OPENAI_BASE_URL": f"{url}/v1", "OPENAI_MODEL": "mock-ok"}
    )


def opencode(home: Path, url: str, shared: Path) -> Setup:
    models = {f"mock-{s}": {"name": f"Mock {s}"} for s in SCENARIOS}
    _write(
        home / ".config" / "opencode" / "opencode.json",
        json.dumps(
            {
                "$schema": "https://opencode.ai/config.json",
                "provider": {
                    "mock": {
                        "npm": "@ai-sdk/openai-compatible",
                        "name": "Mock",
                        "options": {"baseURL": f"{url}/v1", "apiKey": "{env:MOCK_API_KEY}"},
                        "models": models,
                    }
                },
                "model": "mock/mock-ok",
                "small_model": "mock/mock-ok",
                "autoupdate": False,
                "share": "disabled",
            }
        ),
    )
    env = {
        "MOCK_API_KEY": MOCK_KEY,
        "OPENCODE_DISABLE_MODELS_FETCH": "1",
        "OPENCODE_DISABLE_AUTOUPDATE": "1",
        "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
        "npm_config_registry": "http://127.0.0.1:9/",
    }
    return Setup(env=env, passthrough=["MOCK_API_KEY", "npm_config_registry"], model_prefix="mock/")


def copilot(home: Path, url: str, shared: Path) -> Setup:
    return Setup(
        env={
            "COPILOT_PROVIDER_BASE_URL": f"{url}/v1",
            "COPILOT_PROVIDER_API_KEY": MOCK_KEY,
            "COPILOT_MODEL": "mock-ok",
            "COPILOT_OFFLINE": "true",
            "XDG_CACHE_HOME": str(shared / "xdg-cache"),
        }
    )


def grok(home: Path, url: str, shared: Path) -> Setup:
    # grok has no read-only mode: our adapter refuses it unless writes are allowed
    return Setup(
        env={"GROK_API_KEY": MOCK_KEY, "GROK_BASE_URL": f"{url}/v1"},
        settings={"allow_writes": True},
    )


def claude(home: Path, url: str, shared: Path) -> Setup:
    return Setup(
        env={
            "ANTHROPIC_BASE_URL": url,
            "ANTHROPIC_API_KEY": MOCK_KEY,
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "CLAUDE_CODE_MAX_RETRIES": "0",
        }
    )


SETUPS: dict[str, Callable[[Path, str, Path], Setup]] = {
    "codex": codex,
    "gemini": gemini,
    "qwen": qwen,
    "opencode": opencode,
    "copilot": copilot,
    "grok": grok,
    "claude": claude,
}


def prepare(
    name: str,
    root: Path,
    url: str,
    shared: Path,
    allow_writes: bool | None = None,
    retries: int = 0,
) -> tuple[dict[str, str], Settings, Setup]:
    """A fresh HOME under `root`, the CLI's config in it, and (env, settings) for dispatch.
    `retries`: our retries of transient failures (0: the CLI's own behaviour alone, which
    is what the classification tests look at)."""
    home, tmp = root / "home", root / "tmp"
    home.mkdir(parents=True)
    tmp.mkdir()
    setup = SETUPS[name](home, url, shared)
    env = {
        "PATH": f"{binary(name).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "NO_COLOR": "1",
        **setup.env,
    }
    options = {"binary": str(binary(name)), "env": setup.passthrough, **setup.settings}
    if allow_writes is not None:
        options["allow_writes"] = allow_writes
    settings = Settings(
        allow_claude_cli=True,
        probe_timeout=60,
        providers={name: ProviderSettings(**options)},
        retry=RetrySettings(max_retries=retries, base_delay=0.5, max_delay=1),
    )
    return env, settings, setup
