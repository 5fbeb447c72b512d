"""`mm models`: what each provider offers, asked live where the CLI or API can tell
(`cursor-agent models`, `agy models`, ollama tags, `/v1/models`), else the built-in catalog."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

from multi_model import httpcall, providers, runner
from multi_model.config import Settings, provider_env
from multi_model.detect import find_executable
from multi_model.models import Invocation
from multi_model.providers.base import CliProvider, HttpProvider, InProcessProvider, Provider


@dataclass(frozen=True)
class Listing:
    provider: str
    models: list[str]
    live: bool
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def list_models(
    settings: Settings, env: Mapping[str, str], only: str | None = None
) -> list[Listing]:
    """One Listing per provider (or just `only`); raises UnknownProvider for a bad name."""
    env = provider_env(settings, env)
    names = [providers.canonical(only)] if only else [*providers.NAMES, *settings.endpoints]
    adapters = [providers.get(n, settings) for n in names]
    with ThreadPoolExecutor(max_workers=len(adapters)) as pool:
        return list(pool.map(lambda a: _listing(a, settings, env), adapters))


def _listing(prov: Provider, settings: Settings, env: Mapping[str, str]) -> Listing:
    if isinstance(prov, InProcessProvider):
        return Listing(prov.name, list(prov.catalog), live=False)
    if isinstance(prov, HttpProvider):
        reply = httpcall.fetch(prov.models_call(env), settings.probe_timeout)
        if reply.status == 200:
            return Listing(prov.name, prov.parse_models_reply(reply), live=True)
        why = "no answer" if reply.timed_out else (reply.error or f"HTTP {reply.status}")
        return Listing(prov.name, list(prov.catalog), live=False, note=f"server: {why}")
    return _cli_listing(prov, settings, env)


def _cli_listing(prov: CliProvider, settings: Settings, env: Mapping[str, str]) -> Listing:
    catalog = list(prov.catalog)
    if prov.models_probe is None:
        return Listing(prov.name, catalog, live=False)
    exe = find_executable(prov, settings, env)
    if exe is None:
        return Listing(prov.name, catalog, live=False, note="CLI not installed")
    out = runner.run(
        Invocation(argv=(exe, *prov.models_probe), env=prov.env_for(env)), settings.probe_timeout
    )
    found = prov.parse_models(out) if out.exit_code == 0 and not out.timed_out else []
    if found:
        return Listing(prov.name, found, live=True)
    return Listing(prov.name, catalog, live=False, note="live listing failed")
