"""Task-aware routing and profiles.

`--task simple|analysis|complex|code|review|private` picks the seats from a routing table:
the built-in one below, under `[tasks.NAME]` of the config (`models = ["codex|gemini"]`: each
entry one seat, `primary|fallback|...`). `private` must stay on this machine: every provider
it routes to has to be local (ollama on a loopback host, or an endpoint whose URL is
loopback), else the call is refused before anything starts.

`--profile NAME` lays a whole set of settings over the loaded ones (built-in `budget` and
`local-only`, or `[profiles.NAME]` of the user config, which wins). `local-only` allows ollama
and the configured endpoints whose URL is loopback. A profile is a settings
table like the config file's own: `timeout`, `tasks`, `policy`, `review`, ...
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlparse

from multi_model.config import Settings, TaskSettings
from multi_model.errors import PolicyViolation, UsageError
from multi_model.routing import Route

TASKS: dict[str, TaskSettings] = {
    name: TaskSettings(models=models)
    for name, models in {
        "simple": ["gemini|qwen|cursor-agent"],
        "analysis": ["gemini|codex|cursor-agent"],
        "complex": ["codex|gemini|cursor-agent"],
        "code": ["codex|qwen|cursor-agent"],
        "review": ["codex|cursor-agent", "gemini|agy"],
        "private": ["ollama"],
    }.items()
}
PROFILES: dict[str, dict[str, Any]] = {
    "budget": {
        "timeout": 180,
        "tasks": {
            "simple": {"models": ["qwen|gemini"]},
            "analysis": {"models": ["gemini|qwen"]},
            "complex": {"models": ["gemini|codex"]},
            "code": {"models": ["qwen|codex"]},
            "review": {"models": ["qwen", "gemini"]},
        },
    },
    "local-only": {
        "tasks": {name: {"models": ["ollama"]} for name in TASKS},
        "policy": {"allow": ["ollama"]},
        "review": {"reviewers": ["ollama"]},
    },
}
LOCAL_PROVIDERS = frozenset({"ollama"})


def apply_profile(settings: Settings, name: str | None) -> tuple[Settings, str | None]:
    """`settings` with profile `name` laid over it, and where the profile came from."""
    if not name:
        return settings, None
    if name in settings.profiles:
        table, source = settings.profiles[name], "config"
    elif name in PROFILES:
        table, source = _builtin(name, settings), "built-in"
    else:
        known = sorted({*PROFILES, *settings.profiles})
        raise UsageError(f"unknown profile {name!r}; known: {', '.join(known)}")
    merged = _deep_merge(settings.model_dump(exclude_unset=False), table)
    try:
        return Settings.model_validate(merged), f"profile {name} ({source})"
    except ValueError as exc:
        raise UsageError(
            f"profile {name!r} ({source}) is not valid: {str(exc).splitlines()[1:3]}"
        ) from None


def _builtin(name: str, settings: Settings) -> dict[str, Any]:
    """A built-in profile; `local-only` also allows the endpoints on a loopback URL (a
    llama.cpp, vLLM or LiteLLM server on this machine), never one elsewhere."""
    table = PROFILES[name]
    if name != "local-only":
        return table
    local = [n for n in settings.endpoints if _local_where(n, settings, {}) is not None]
    return {**table, "policy": {"allow": ["ollama", *local]}}


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict) and key != "tasks":
            out[key] = _deep_merge(out[key], value)
        elif key == "tasks" and isinstance(value, Mapping):
            out[key] = {**(out.get(key) or {}), **value}
        else:
            out[key] = value
    return out


def task(name: str, settings: Settings) -> tuple[TaskSettings, str]:
    """The task's seats and which table they came from."""
    if name in settings.tasks:
        return settings.tasks[name], f"[tasks.{name}] in the config or profile"
    if name in TASKS:
        return TASKS[name], "built-in task table"
    known = sorted({*TASKS, *settings.tasks})
    raise UsageError(f"unknown task {name!r}; known: {', '.join(known)}")


def check_private(routes: Sequence[Route], settings: Settings, env: Mapping[str, str]) -> None:
    """Refuse any route that would leave this machine."""
    for r in routes:
        where = _local_where(r.provider, settings, env)
        if where is None:
            raise PolicyViolation(
                f"task private: {r.spec} routes to {r.provider}, which is "
                "not on this machine (only ollama on a loopback host or a "
                "loopback endpoint may serve it)"
            )


def _local_where(provider: str, settings: Settings, env: Mapping[str, str]) -> str | None:
    if provider in settings.endpoints:
        url = settings.endpoints[provider].base_url
    elif provider in LOCAL_PROVIDERS:
        url = settings.ollama_host or env.get("OLLAMA_HOST") or "http://127.0.0.1:11434"
    else:
        return None
    host = urlparse(url if "://" in url else f"http://{url}").hostname or ""
    return url if _loopback(host) else None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def describe(
    name: str,
    settings: Settings,
    routes: Sequence[Sequence[Route]],
    source: str,
    profile: str | None,
) -> str:
    """`mm config --task`: the seats, where they came from, and each spec's route."""
    lines = [f"task {name}: {source}" + (f", with {profile}" if profile else "")]
    for seat, chain in enumerate(routes, 1):
        lines.append(f"  seat {seat}: " + " | ".join(r.spec for r in chain))
        for r in chain:
            lines.append(
                f"    {r.spec} -> {r.provider}"
                + (f":{r.model}" if r.model else "")
                + f"  ({r.reason})"
            )
    return "\n".join(lines) + "\n"


def env_profile(env: Mapping[str, str] | None = None) -> str | None:
    return (env or os.environ).get("MULTI_MODEL_PROFILE") or None
