"""Routing: explicit, bare provider, family rules, availability preference, Claude refusal."""

from __future__ import annotations

import pytest

from multi_model.config import EndpointSettings, ProviderSettings, RouteRule, Settings
from multi_model.errors import ClaudeModelRefused, UnknownProvider
from multi_model.routing import is_claude_model, route


def installed(*names: str, logged_out: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    def check(name: str):  # type: ignore[no-untyped-def]
        if name not in names:
            return None
        return "logged_out" if name in logged_out else "logged_in"

    return check


NOTHING = installed()
S = Settings()


@pytest.mark.parametrize(
    "spec, provider, model",
    [
        ("codex:gpt-5.4-high", "codex", "gpt-5.4-high"),
        ("ollama:llama3.1:8b", "ollama", "llama3.1:8b"),
        ("cursor:grok-4", "cursor-agent", "grok-4"),
        ("antigravity:gemini-3-pro", "agy", "gemini-3-pro"),
        ("codex", "codex", None),
        ("gemini:", "gemini", None),
    ],
)
def test_explicit_and_bare_provider(spec: str, provider: str, model: str | None) -> None:
    r = route(spec, S, NOTHING)
    assert (r.provider, r.model, r.reason) == (provider, model, "explicit provider")


def test_bare_provider_uses_configured_default_model() -> None:
    settings = Settings(providers={"codex": ProviderSettings(model="gpt-5.5")})
    assert route("codex", settings, NOTHING).model == "gpt-5.5"


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("gpt-5.4", "codex"),
        ("o3", "codex"),
        ("gpt-5.3-codex", "codex"),
        ("openai/gpt-5", "codex"),
        ("gemini-3-pro", "gemini"),
        ("qwen3-coder", "qwen"),
        ("devstral-2", "vibe"),
        ("grok-4", "cursor-agent"),
        ("kimi-k2", "cursor-agent"),
        ("composer-2", "cursor-agent"),
        ("llama3", "cursor-agent"),
    ],
)
def test_family_routing_when_everything_installed(spec: str, expected: str) -> None:
    everything = installed("codex", "gemini", "agy", "qwen", "vibe", "cursor-agent")
    assert route(spec, S, everything).provider == expected


def test_gemini_goes_to_agy_when_gemini_missing_or_logged_out() -> None:
    assert route("gemini-3-pro", S, installed("agy", "cursor-agent")).provider == "agy"
    both = installed("gemini", "agy", logged_out=("gemini",))
    assert route("gemini-3-pro", S, both).provider == "agy"


def test_logged_out_candidate_still_beats_not_installed() -> None:
    r = route("gpt-5", S, installed("codex", logged_out=("codex",)))
    assert r.provider == "codex" and "logged out" in r.reason


def test_nothing_installed_routes_to_first_candidate() -> None:
    r = route("gpt-5", S, NOTHING)
    assert r.provider == "codex" and "no candidate installed" in r.reason


def test_gpt_falls_back_to_cursor_when_codex_missing() -> None:
    assert route("gpt-5", S, installed("cursor-agent")).provider == "cursor-agent"


def test_config_routes_come_before_defaults() -> None:
    settings = Settings(routes=[RouteRule(match=r"gpt-oss.*", providers=["ollama"])])
    assert route("gpt-oss-20b", settings, installed("codex")).provider == "ollama"


def test_local_names_route_to_configured_endpoint_or_provider() -> None:
    settings = Settings(
        endpoints={
            "litellm": EndpointSettings(base_url="http://127.0.0.1:4000/v1", models=["team-gpt"])
        },
        providers={"ollama": ProviderSettings(models=["llama3.1:8b"])},
    )
    assert route("team-gpt", settings, NOTHING).provider == "litellm"
    assert route("llama3.1:8b", settings, NOTHING).provider == "ollama"
    assert route("litellm:other", settings, NOTHING).provider == "litellm"


@pytest.mark.parametrize(
    "spec",
    [
        "claude-sonnet-4-5",
        "opus",
        "sonnet",
        "haiku-4.5",
        "anthropic/claude-opus-4.8",
        "claude",
        "claude:opus",
        "cursor-agent:claude-4-sonnet",
    ],
)
def test_claude_models_refused_by_default(spec: str) -> None:
    with pytest.raises(ClaudeModelRefused, match="Agent tool"):
        route(spec, S, installed("claude", "cursor-agent"))


def test_claude_opt_ins() -> None:
    assert route("opus", S, NOTHING, allow_claude_cli=True).provider == "claude"
    assert route("opus", S, NOTHING, allow_cursor_claude=True).provider == "cursor-agent"
    assert route("claude:opus", S, NOTHING, allow_claude_cli=True).model == "opus"
    assert (
        route("cursor-agent:claude-4-sonnet", S, NOTHING, allow_cursor_claude=True).provider
        == "cursor-agent"
    )
    assert route("opus", Settings(allow_claude_cli=True), NOTHING).provider == "claude"


def test_claude_detection_is_not_fooled_by_substrings() -> None:
    assert not is_claude_model("gpt-5")
    assert not is_claude_model("opusx-model")
    assert is_claude_model("claude-opus-4-8")


@pytest.mark.parametrize("spec", ["nosuch:model", "llama3:8b"])
def test_colon_always_names_a_provider(spec: str) -> None:
    with pytest.raises(UnknownProvider, match=spec.split(":")[0]):
        route(spec, S, NOTHING)


@pytest.mark.parametrize(
    "spec",
    [
        "copilot:claude-sonnet-4.5",
        "agy:claude-sonnet-4-6",
        "opencode:anthropic/claude-opus-4.8",
        "team-claude",
    ],
)
def test_claude_through_any_other_provider_needs_the_opt_in(spec: str) -> None:
    settings = Settings(
        endpoints={
            "lite": EndpointSettings(
                base_url="http://127.0.0.1:4000/v1", models=["team-claude", "claude-opus-4-8"]
            )
        }
    )
    spec = "claude-opus-4-8" if spec == "team-claude" else spec
    with pytest.raises(ClaudeModelRefused):
        route(spec, settings, NOTHING)
    assert route(spec, settings, NOTHING, allow_cursor_claude=True).model


@pytest.mark.parametrize(
    "settings, hint",
    [
        (Settings(providers={"codx": ProviderSettings(models=["foo"])}), "claims"),
        (Settings(routes=[RouteRule(match="foo", providers=["nope"])]), "route"),
    ],
)
def test_unknown_provider_names_in_config_are_routing_errors(settings: Settings, hint: str) -> None:
    with pytest.raises(UnknownProvider, match=hint):
        route("foo", settings, NOTHING)
