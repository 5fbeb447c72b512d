"""The registry: what each provider declares as data becomes the default routes and the
council's seats, and every CLI in it comes with a recorded answer."""

from __future__ import annotations

from typing import ClassVar

import pytest

from multi_model import providers
from multi_model.config import Settings
from multi_model.providers.base import CliProvider, Family, Serves
from multi_model.providers.families import ANY, GEMINI
from multi_model.routing import route
from tests.providers.samples import ok_sample, sample


def test_every_key_is_its_adapters_name() -> None:
    assert all(cls().name == name for name, cls in providers.BUILTIN.items())


def test_default_routes_are_built_from_what_the_providers_serve() -> None:
    assert providers.routes() == (
        (r"(openai/)?(gpt|o\d|codex|chatgpt)([-.].*)?", ("codex", "cursor-agent")),
        (r"(google/)?gemini([-.].*)?", ("gemini", "agy", "cursor-agent")),
        (r"qwen.*", ("qwen", "cursor-agent")),
        (r"(mistral|devstral|codestral|magistral).*", ("vibe", "cursor-agent")),
        (r".*", ("cursor-agent",)),
    )


def test_rate_buckets_give_one_default_seat_per_quota() -> None:
    assert providers.rate_buckets() == (
        ("codex",),
        ("gemini", "agy"),
        ("cursor-agent",),
        ("copilot",),
        ("qwen",),
        ("opencode",),
        ("vibe",),
    )


class Lab(CliProvider):
    """A provider added the documented way: its own family, a shared one, a seat."""

    name = "lab"
    executables = ("lab",)
    LAB: ClassVar[Family] = Family(r"lab-.*")
    routes = (Serves(LAB), Serves(GEMINI, rank=2), Serves(ANY, rank=2))
    rate_bucket = "lab"
    seat_rank = 7


def test_a_new_provider_is_one_registry_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(providers.BUILTIN, "lab", Lab)
    table = dict(providers.routes())
    assert list(table)[-1] == ".*" and table[r"lab-.*"] == ("lab",)
    assert table[GEMINI.match] == ("gemini", "agy", "cursor-agent", "lab")
    assert table[".*"] == ("cursor-agent", "lab")
    assert providers.rate_buckets()[-1] == ("lab",)


@pytest.mark.parametrize("name", providers.CLI_NAMES)
def test_every_cli_has_a_recorded_answer_that_reads_as_ok(name: str) -> None:
    found = ok_sample(name)
    assert found, f"record a successful run under tests/fixtures/{name}/ok.*"
    adapter = providers.builtin(name)
    assert isinstance(adapter, CliProvider)
    parsed = adapter.parse(sample(name, found))
    assert parsed.status == "ok" and parsed.text.strip()


def test_a_family_routes_to_the_provider_that_declares_it() -> None:
    settings = Settings()
    r = route("mistral-large", settings, {"vibe": "logged_in"}.get)
    assert (r.provider, r.candidates) == ("vibe", ("vibe", "cursor-agent"))
