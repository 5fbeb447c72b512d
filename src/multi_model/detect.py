"""Which CLIs are here: path, version, and (optionally) login state. All probes run in parallel,
each bounded by the probe timeout, so a CLI that hangs on `--version` costs at most that.

Versions are cached in the data dir keyed by (path, size, mtime), so a dispatch records the
CLI version without paying for a `--version` run on every call.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from functools import cache
from pathlib import Path

from multi_model import providers, runner
from multi_model.config import Settings, provider_env
from multi_model.models import HttpCall, Invocation
from multi_model.paths import data_dir
from multi_model.providers.base import (
    ANSI_RE,
    AuthState,
    CliProvider,
    HttpProvider,
    InProcessProvider,
    Provider,
)
from multi_model.store import Store
from multi_model.util.fs import atomic_write

CALVER_RE = re.compile(r"^\s*20\d\d\.\d")
_CACHE_LOCK = threading.Lock()


@dataclass(frozen=True)
class CliInfo:
    name: str
    installed: bool
    path: str | None = None
    version: str | None = None
    auth: AuthState | None = None
    auth_detail: str | None = None
    error: str | None = None
    install_hint: str = ""
    login_hint: str = ""
    cooling_until: float | None = None
    """A reported quota window: routing skips this provider until then."""
    cooling_reason: str | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def find_executable(prov: CliProvider, settings: Settings, env: Mapping[str, str]) -> str | None:
    """The binary to run: `[providers.X] binary`, else the first of the adapter's names on PATH.
    A generic name (cursor's `agent`) counts only when its `--version` is CalVer."""
    configured = settings.provider(prov.name).binary
    names = (configured,) if configured else prov.executables
    for index, name in enumerate(names):
        path = runner.resolve_executable(name, env.get("PATH"))
        if path is None:
            continue
        if not configured and index > 0 and prov.name == "cursor-agent":
            version = probe_version(prov, path, env, settings.probe_timeout)
            if not (version and CALVER_RE.match(version)):
                continue
        return path
    return None


def probe_version(
    prov: CliProvider, path: str, env: Mapping[str, str], timeout: float
) -> str | None:
    """`<cli> --version`, bounded; the raw first line when the adapter finds no version in it."""
    out = runner.run(Invocation(argv=(path, "--version"), env=prov.env_for(env)), timeout)
    text = f"{out.stdout}\n{out.stderr}".strip()
    if out.timed_out or out.spawn_error or not text:
        return None
    if prov.name == "cursor-agent" and CALVER_RE.match(text):
        return text.split()[0]
    return prov.parse_version(text) or text.splitlines()[0][:80]


def cached_version(
    prov: CliProvider, path: str, env: Mapping[str, str], timeout: float
) -> str | None:
    """The CLI's version, from the cache when the binary has not changed since it was probed."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    key = f"{path}|{stat.st_size}|{stat.st_mtime_ns}"
    cache_file = data_dir(env) / "cache" / "versions.json"
    cache = _read_json(cache_file)
    if key in cache:
        return cache[key]
    version = probe_version(prov, path, env, timeout)
    if version:
        with _CACHE_LOCK:  # re-read: other threads may have added their CLIs meanwhile
            cache = _read_json(cache_file)
            cache[key] = version
            _write_json(cache_file, cache)
    return version


def quick_auth(prov: CliProvider, env: Mapping[str, str]) -> AuthState:
    """Login state from env vars and credential files only (no process)."""
    if any(env.get(var) for var in prov.auth.env):
        return "logged_in"
    home = Path(env.get("HOME", "~")).expanduser()
    if any((home / rel).exists() for rel in prov.auth.files):
        return "logged_in"
    return "unknown" if prov.auth.probe or not (prov.auth.env or prov.auth.files) else "logged_out"


def probe_auth(
    prov: CliProvider, path: str, env: Mapping[str, str], timeout: float
) -> tuple[AuthState, str]:
    """Bounded login check: the CLI's status command when it has one, else env and files."""
    quick = quick_auth(prov, env)
    if prov.auth.probe is None:
        detail = (
            "credentials found"
            if quick == "logged_in"
            else "no status command; "
            + ("no credentials found" if quick == "logged_out" else "cannot tell")
        )
        return quick, detail
    out = runner.run(Invocation(argv=(path, *prov.auth.probe), env=prov.env_for(env)), timeout)
    if out.timed_out:
        return "unknown", f"status probe gave no answer within {timeout:g}s"
    return prov.parse_auth(out), _summary(out.stdout.strip() or out.stderr.strip(), out.exit_code)


def _summary(text: str, exit_code: int | None) -> str:
    """One line for a status probe's output: a JSON object flattened, else its last line
    (the verdict; warnings and banners come first)."""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        text = ", ".join(f"{k}={v}" for k, v in data.items() if isinstance(v, (str, int, bool)))
    lines = [line.strip(" \t│┌└─") for line in ANSI_RE.sub("", text).splitlines()]
    lines = [line for line in lines if line]
    return lines[-1][:160] if lines else f"exit {exit_code}"


def _detect_cli(
    prov: CliProvider, settings: Settings, env: Mapping[str, str], check_auth: bool
) -> CliInfo:
    path = find_executable(prov, settings, env)
    if path is None:
        return CliInfo(
            prov.name, installed=False, install_hint=prov.install_hint, login_hint=prov.login_hint
        )
    with ThreadPoolExecutor(max_workers=2) as pool:  # a hanging CLI costs one probe timeout
        version_probe = pool.submit(probe_version, prov, path, env, settings.probe_timeout)
        auth, detail = (
            probe_auth(prov, path, env, settings.probe_timeout) if check_auth else (None, None)
        )
        version = version_probe.result()
    error = None if version else f"--version gave no answer within {settings.probe_timeout:g}s"
    return CliInfo(
        prov.name,
        True,
        path,
        version,
        auth,
        detail,
        error,
        install_hint=prov.install_hint,
        login_hint=prov.login_hint,
    )


def _detect_http(prov: HttpProvider, env: Mapping[str, str], timeout: float) -> CliInfo:
    from multi_model import httpcall  # noqa: PLC0415 - start-up: urllib and ssl only for HTTP

    call = prov.models_call(env)
    reply = httpcall.fetch(HttpCall("GET", call.url, call.headers), min(timeout, 3.0))
    if reply.status == 200:
        return CliInfo(
            prov.name,
            True,
            prov.base_url(env),
            auth="logged_in",
            install_hint=prov.install_hint,
            login_hint=prov.login_hint,
        )
    problem = reply.error or ("no answer" if reply.timed_out else f"HTTP {reply.status}")
    return CliInfo(
        prov.name,
        False,
        prov.base_url(env),
        error=problem,
        install_hint=prov.install_hint,
        login_hint=prov.login_hint,
    )


def _detect_one(
    prov: Provider, settings: Settings, env: Mapping[str, str], check_auth: bool
) -> CliInfo:
    """One provider's probe; an in-process provider (a registered double) is always here."""
    if isinstance(prov, CliProvider):
        return _detect_cli(prov, settings, env, check_auth)
    if isinstance(prov, HttpProvider):
        return _detect_http(prov, provider_env(settings, env), settings.probe_timeout)
    return CliInfo(
        prov.name,
        True,
        auth="logged_in",
        install_hint=prov.install_hint,
        login_hint=prov.login_hint,
    )


def detect_all(
    settings: Settings, env: Mapping[str, str] | None = None, check_auth: bool = False
) -> list[CliInfo]:
    """Every provider, probed in parallel; order follows the registry, then endpoints."""
    env = os.environ if env is None else env
    names = [*providers.NAMES, *settings.endpoints]
    adapters = [providers.get(n, settings) for n in names]
    with ThreadPoolExecutor(max_workers=len(adapters)) as pool:
        futures = [pool.submit(_detect_one, a, settings, env, check_auth) for a in adapters]
        infos = [f.result() for f in futures]
    store = Store.of(os.environ)
    cooling = store.safely(store.cooling) or {}
    return [
        replace(i, cooling_until=cooling[i.name][0], cooling_reason=cooling[i.name][1])
        if i.name in cooling
        else i
        for i in infos
    ]


def availability(settings: Settings, env: Mapping[str, str]) -> Callable[[str], AuthState | None]:
    """A cached `routing.Availability` for one dispatch: install state and cheap auth."""

    @cache
    def check(name: str) -> AuthState | None:
        if not providers.is_known(name, settings):
            return None
        prov = providers.get(name, settings)
        if isinstance(prov, InProcessProvider):
            return "logged_in"
        if isinstance(prov, HttpProvider):
            return "unknown"
        if find_executable(prov, settings, env) is None:
            return None
        return quick_auth(prov, env)

    return check


def _read_json(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_json(path: Path, data: dict[str, str]) -> None:
    """Atomic replace through a unique temp file; a failure only costs a probe next time."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(data, indent=0, sort_keys=True))
