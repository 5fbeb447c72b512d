"""The provider registry: an explicit table of adapter classes, plus aliases.

Adding a provider = one module in this package, one line in `BUILTIN`, recorded samples
under `tests/fixtures/<name>/`; the parametrized tests pick it up from `NAMES`. What a
provider declares as class data (rate bucket, routes, catalog) is read from here: the
default routes (`routes`) and the council's seats (`rate_buckets`).
Configured OpenAI-compatible endpoints (`[endpoints.<name>]`) become providers of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING

from multi_model.errors import UnknownProvider
from multi_model.providers.agy import Agy
from multi_model.providers.base import (
    Builtin,
    CliProvider,
    Family,
    HttpProvider,
    InProcessProvider,
    Provider,
)
from multi_model.providers.claude import Claude
from multi_model.providers.codex import Codex
from multi_model.providers.copilot import Copilot
from multi_model.providers.cursor_agent import CursorAgent
from multi_model.providers.gemini import Gemini
from multi_model.providers.grok import Grok
from multi_model.providers.ollama import Ollama
from multi_model.providers.openai_compat import OpenAICompat
from multi_model.providers.opencode import OpenCode
from multi_model.providers.qwen import Qwen
from multi_model.providers.vibe import Vibe

if TYPE_CHECKING:
    from multi_model.config import Settings

BUILTIN: dict[str, type[CliProvider] | type[HttpProvider]] = {
    "codex": Codex,
    "gemini": Gemini,
    "agy": Agy,
    "cursor-agent": CursorAgent,
    "claude": Claude,
    "qwen": Qwen,
    "opencode": OpenCode,
    "copilot": Copilot,
    "grok": Grok,
    "vibe": Vibe,
    "ollama": Ollama,
}
_DECLARED: Mapping[str, type[Builtin]] = BUILTIN  # mypy checks every class has the data

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

NAMES: tuple[str, ...] = tuple(BUILTIN)
CLI_NAMES: tuple[str, ...] = tuple(n for n, c in BUILTIN.items() if issubclass(c, CliProvider))


def canonical(name: str) -> str:
    """The registry name for a provider name or alias (unchanged when unknown)."""
    name = name.lower()
    return ALIASES.get(name, name)


@cache
def builtin(name: str) -> Provider:
    """The adapter for a built-in provider; KeyError when there is none."""
    return BUILTIN[name]()


def register(provider: Provider) -> None:
    """Make `provider` routable as `<provider.name>:<model>`; ValueError for a built-in name."""
    if provider.name in BUILTIN or provider.name in ALIASES:
        raise ValueError(f"{provider.name!r} is a built-in provider")
    _REGISTERED[provider.name] = provider


def unregister(name: str) -> None:
    _REGISTERED.pop(name, None)


def get(name: str, settings: Settings) -> Provider:
    """The adapter for a provider or configured endpoint; raises UnknownProvider."""
    name = canonical(name)
    if name in BUILTIN:
        return builtin(name)
    if name in _REGISTERED:
        return _REGISTERED[name]
    if name in settings.endpoints:
        return OpenAICompat(name, settings.endpoints[name])
    raise UnknownProvider(name, [*BUILTIN, *_REGISTERED, *settings.endpoints])


def is_known(name: str, settings: Settings) -> bool:
    name = canonical(name)
    return name in BUILTIN or name in _REGISTERED or name in settings.endpoints


def routes() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(family pattern, its providers in the order to ask them), from every provider's
    `routes`: families in registry order of first mention, the catch-all `.*` last;
    providers by rank, then registry order."""
    served: dict[Family, list[tuple[int, int, str]]] = {}
    for index, (name, cls) in enumerate(_DECLARED.items()):
        for serves in cls.routes:
            served.setdefault(serves.family, []).append((serves.rank, index, name))
    families = sorted(served, key=lambda family: family.match == ".*")
    return tuple((f.match, tuple(name for *_, name in sorted(served[f]))) for f in families)


def rate_buckets() -> tuple[tuple[str, ...], ...]:
    """The default council's seats: providers with a `seat_rank`, grouped by rate bucket
    (one seat per bucket), best-ranked bucket first, registry order inside one."""
    seated = sorted(
        (cls.seat_rank, index, name)
        for index, (name, cls) in enumerate(_DECLARED.items())
        if cls.seat_rank is not None
    )
    buckets: dict[str, list[str]] = {}
    for *_, name in seated:
        buckets.setdefault(_DECLARED[name].rate_bucket, []).append(name)
    return tuple(tuple(names) for names in buckets.values())


__all__ = [
    "ALIASES",
    "BUILTIN",
    "CLI_NAMES",
    "NAMES",
    "CliProvider",
    "HttpProvider",
    "InProcessProvider",
    "Provider",
    "builtin",
    "canonical",
    "get",
    "is_known",
    "rate_buckets",
    "register",
    "routes",
    "unregister",
]
