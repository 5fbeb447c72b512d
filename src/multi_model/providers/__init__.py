"""The provider registry: an explicit table of adapters, plus aliases.

Adding a provider = one module in this package, one line in `_BUILTIN`, recorded samples
under `tests/fixtures/<name>/`; the parametrized tests pick it up from `NAMES`.
Configured OpenAI-compatible endpoints (`[endpoints.<name>]`) become providers of their own.
"""

from __future__ import annotations

import importlib
from functools import cache

from multi_model.config import Settings
from multi_model.errors import UnknownProvider
from multi_model.providers.base import CliProvider, HttpProvider, InProcessProvider, Provider

_BUILTIN: dict[str, str] = {
    "codex": "codex:Codex",
    "gemini": "gemini:Gemini",
    "agy": "agy:Agy",
    "cursor-agent": "cursor_agent:CursorAgent",
    "claude": "claude:Claude",
    "qwen": "qwen:Qwen",
    "opencode": "opencode:OpenCode",
    "copilot": "copilot:Copilot",
    "grok": "grok:Grok",
    "vibe": "vibe:Vibe",
    "ollama": "ollama:Ollama",
}

ALIASES: dict[str, str] = {
    "cursor": "cursor-agent",
    "antigravity": "agy",
    "gemini-cli": "gemini",
    "claude-code": "claude",
    "github-copilot": "copilot",
    "mistral": "vibe",
    "mistral-vibe": "vibe",
    "qwen-code": "qwen",
}

_REGISTERED: dict[str, Provider] = {}
"""Providers added at run time (in-process test doubles, plugins); they shadow nothing built in."""

NAMES: tuple[str, ...] = tuple(_BUILTIN)
CLI_NAMES: tuple[str, ...] = tuple(n for n in _BUILTIN if n != "ollama")


def canonical(name: str) -> str:
    """The registry name for a provider name or alias (unchanged when unknown)."""
    name = name.lower()
    return ALIASES.get(name, name)


@cache
def builtin(name: str) -> Provider:
    """The adapter for a built-in provider; KeyError when there is none."""
    module, cls = _BUILTIN[name].split(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), cls)()  # type: ignore[no-any-return]


def register(provider: Provider) -> None:
    """Make `provider` routable as `<provider.name>:<model>`; ValueError for a built-in name."""
    if provider.name in _BUILTIN or provider.name in ALIASES:
        raise ValueError(f"{provider.name!r} is a built-in provider")
    _REGISTERED[provider.name] = provider


def unregister(name: str) -> None:
    _REGISTERED.pop(name, None)


def get(name: str, settings: Settings) -> Provider:
    """The adapter for a provider or configured endpoint; raises UnknownProvider."""
    name = canonical(name)
    if name in _BUILTIN:
        return builtin(name)
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name in settings.endpoints:
        from multi_model.providers.openai_compat import OpenAICompat

        return OpenAICompat(name, settings.endpoints[name])
    raise UnknownProvider(name, [*_BUILTIN, *_REGISTERED, *settings.endpoints])


def is_known(name: str, settings: Settings) -> bool:
    name = canonical(name)
    return name in _BUILTIN or name in _REGISTERED or name in settings.endpoints


__all__ = ["ALIASES", "CLI_NAMES", "NAMES", "CliProvider", "HttpProvider", "InProcessProvider",
           "Provider", "builtin", "canonical", "get", "is_known", "register", "unregister"]
