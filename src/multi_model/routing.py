"""Model spec -> provider. Pure: what is installed is asked through the `available` callback.

Rules, in order:
1. A name listed under `[providers.X] models` or `[endpoints.X] models` goes there.
2. `provider:model` is explicit (`ollama:llama3:8b` keeps the tag); a `:` always names a
   provider, so `llama3:8b` is an unknown provider, not a model; `provider:` or a bare
   provider name means that CLI's own default model (or `[providers.X] model`). A provider
   named in any of these ways never fails over to another.
3. Claude models are refused unless opted in (claude CLI, or cursor-agent).
4. Otherwise the first matching family rule (config `routes` first, then `DEFAULT_ROUTES`,
   which the providers declare)
   gives the candidates; the first that is installed and not logged out wins, else the first
   installed one, else the first (which then reports not_installed). A rule naming the claude
   CLI needs the opt-in too; from a project file, its absence is a ConfigError naming the key.

A spec and the model it routes to are strict tokens (`models.MODEL_ID_RE`): a model id ends up
in a CLI's argv. Route patterns from config files run on the `regex` engine with a timeout: a
project file's pattern is untrusted, and one like `(a|a)+b` would otherwise backtrack for
hours; the package's own patterns are linear and run on `re` (bounded.py).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from multi_model import bounded, providers
from multi_model.config import RouteRule, Settings
from multi_model.detect import availability
from multi_model.errors import (
    ClaudeModelRefused,
    ConfigError,
    UnknownModel,
    UnknownProvider,
    UsageError,
)
from multi_model.models import model_id_problem
from multi_model.providers.base import AuthState

CLAUDE_RE = r"(anthropic/)?(claude|opus|sonnet|haiku)([-.:/@ ].*)?"

bounded.trust(CLAUDE_RE, *(match for match, _ in providers.routes()))  # ours: linear, on `re`

DEFAULT_ROUTES: tuple[RouteRule, ...] = tuple(
    RouteRule(match=match, providers=list(names)) for match, names in providers.routes()
)
"""The family rules the providers declare (their `routes`), after the config's own."""

CATCH_ALL = DEFAULT_ROUTES[-1]
"""The built-in `.*` rule (cursor-agent): taken only by names that look like model ids."""
NEAR_MISS = 0.8  # difflib ratio: `gemni` ~ `gemini` is 0.91


def known_names(settings: Settings) -> list[str]:
    """Provider names, aliases, endpoints and every catalog and configured model name."""
    names = [*providers.NAMES, *providers.ALIASES, *settings.endpoints]
    for name in providers.NAMES:
        names += [*providers.builtin(name).catalog, *settings.provider(name).models]
    for endpoint in settings.endpoints.values():
        names += endpoint.models
    return names


def check_catch_all(spec: str, settings: Settings) -> None:
    """Raises UnknownModel for a name the catch-all would take by accident: one with no
    version digit (model ids carry one: `grok-4`, `kimi-k2`, `llama3`) that is no known name,
    with the near misses of a provider, alias or catalog name (`gemni`) as suggestions."""
    if any(c.isdigit() for c in spec):
        return
    names = list(dict.fromkeys(n.lower() for n in known_names(settings)))
    if spec.lower() not in names:
        raise UnknownModel(spec, difflib.get_close_matches(spec.lower(), names, 3, NEAR_MISS))


Availability = Callable[[str], "AuthState | None"]
"""name -> None when not installed, else its (cheaply checked) auth state."""


@dataclass(frozen=True)
class Route:
    spec: str
    provider: str
    model: str | None
    reason: str
    candidates: tuple[str, ...] = ()
    """The family rule's providers, for failover (empty: the user chose the provider, by
    `provider:model`, a bare provider name or the config: it is never answered by another)."""
    family: str | None = None
    """The family rule's pattern."""
    resume: str | None = None
    """The provider's session id this call continues (`--session`); such a route never fails
    over: the conversation lives with that provider."""


MATCH_TIMEOUT = 1.0
"""Seconds one route pattern may spend on one name; any sane pattern needs microseconds."""


def matches(rule: RouteRule, name: str) -> bool:
    """Whether `rule` covers `name` (case-insensitive, whole name); raises ConfigError naming
    the rule's file and key when its pattern runs past `MATCH_TIMEOUT`."""
    try:
        return bounded.fullmatch(rule.match, name, MATCH_TIMEOUT)
    except TimeoutError:
        raise ConfigError(
            f"{rule.where('match')}: the pattern {rule.match!r} ran over "
            f"{MATCH_TIMEOUT:g} s on {name!r}; use a simpler one"
        ) from None


def covers(family: str, name: str) -> bool:
    """Whether a family pattern (`Route.family`) covers `name`; False past `MATCH_TIMEOUT`."""
    try:
        return bounded.fullmatch(family, name, MATCH_TIMEOUT)
    except TimeoutError:
        return False


def is_claude_model(model: str) -> bool:
    return bounded.fullmatch(CLAUDE_RE, model, MATCH_TIMEOUT)


def split_specs(text: str, flag: str = "--models") -> list[str]:
    """'a, b' -> ['a', 'b']; UsageError for an empty entry (',,', a stray comma) or
    whitespace inside one ('codex gemini')."""
    specs = [part.strip() for part in text.split(",")]
    if not all(specs):
        raise UsageError(
            f"{flag} {text!r} has an empty entry; give comma-separated model "
            "specs, e.g. codex,gemini"
        )
    spaced = next((s for s in specs if any(c.isspace() for c in s)), None)
    if spaced is not None:
        joined = ",".join(spaced.split())
        raise UsageError(
            f"{flag}: {spaced!r} has a space inside; separate model specs with commas, "
            f"e.g. {flag} {joined}"
        )
    return specs


def check_spec(spec: str) -> None:
    """Raises UsageError for a spec that cannot be a model id (it would reach argv)."""
    problem = model_id_problem(spec)
    if problem:
        raise UsageError(f"invalid model spec: {problem}")


def route(
    spec: str,
    settings: Settings,
    available: Availability,
    allow_claude_cli: bool = False,
    allow_cursor_claude: bool = False,
    cooling: Mapping[str, tuple[float, str]] | None = None,
) -> Route:
    """Route one spec. Raises ClaudeModelRefused, UnknownProvider, UsageError (a spec or
    model that is not a strict token) or ConfigError (a project rule naming the claude CLI, a
    pattern past `MATCH_TIMEOUT`), all before anything runs.
    `cooling`: providers to avoid until a reported quota reset (name -> (until, reason))."""
    check_spec(spec)
    allow_claude_cli = allow_claude_cli or settings.allow_claude_cli
    allow_cursor_claude = allow_cursor_claude or settings.allow_cursor_claude
    claimed = _claimed_by(spec, settings)
    if claimed:
        _known(claimed, settings, f"it claims {spec!r} in the config")
        _check_claude(spec, claimed, spec, allow_claude_cli, allow_cursor_claude)
        return Route(spec, claimed, spec, f"listed under {claimed} in config")
    head, sep, tail = spec.partition(":")
    if sep or providers.is_known(spec, settings):
        name = providers.canonical(head)
        looks_like_tag = tail == "latest" or tail[:1].isdigit()  # llama3:8b, qwen2.5:latest
        hint = f"an Ollama model is written ollama:{spec}" if looks_like_tag else ""
        _known(name, settings, hint)
        model = tail or _default_model(name, settings)
        if model is not None:
            check_spec(model)
        _check_claude(spec, name, model, allow_claude_cli, allow_cursor_claude)
        # a provider the user named answers or fails itself: retries, never failover
        return Route(spec, name, model, "explicit provider")
    if is_claude_model(spec):
        if allow_claude_cli:
            return Route(spec, "claude", spec, "Claude model, --allow-claude-cli")
        if allow_cursor_claude:
            return Route(spec, "cursor-agent", spec, "Claude model, --allow-cursor-claude")
        raise ClaudeModelRefused(spec)
    rule = next(r for r in (*settings.routes, *DEFAULT_ROUTES) if matches(r, spec))
    if rule is CATCH_ALL:
        check_catch_all(spec, settings)
    _check_rule(rule, spec, settings, allow_claude_cli)
    name, why = _pick(rule.providers, available, cooling or {})
    return Route(
        spec,
        providers.canonical(name),
        spec,
        f"family /{rule.match}/: {why}",
        candidates=tuple(rule.providers),
        family=rule.match,
    )


def _check_rule(rule: RouteRule, spec: str, settings: Settings, allow_claude_cli: bool) -> None:
    """Every candidate of `rule` is known, and the claude CLI is one only with the opt-in: a
    project file's rule that names it without one is a ConfigError naming the key."""
    for candidate in rule.providers:
        name = providers.canonical(candidate)
        _known(name, settings, f"named by the route /{rule.match}/")
        if name != "claude" or allow_claude_cli:
            continue
        if rule.from_project:
            raise ConfigError(
                f"{rule.where('providers')}: a project file cannot route to the "
                "claude CLI; opt in with --allow-claude-cli or allow_claude_cli "
                "in your user config"
            )
        raise ClaudeModelRefused(spec)


def _default_model(name: str, settings: Settings) -> str | None:
    if name in settings.endpoints:
        return settings.endpoints[name].model
    return settings.provider(name).model


def _known(name: str, settings: Settings, hint: str) -> None:
    if not providers.is_known(name, settings):
        raise UnknownProvider(name, [*providers.NAMES, *settings.endpoints], hint=hint)


def _check_claude(
    spec: str, name: str, model: str | None, allow_cli: bool, allow_cursor: bool
) -> None:
    """The claude CLI needs --allow-claude-cli; a Claude model through any other provider
    (cursor-agent, copilot, opencode, agy, an endpoint) needs --allow-cursor-claude."""
    if name == "claude" and not allow_cli:
        raise ClaudeModelRefused(spec)
    if name != "claude" and model and is_claude_model(model) and not allow_cursor:
        raise ClaudeModelRefused(spec)


def _claimed_by(model: str, settings: Settings) -> str | None:
    for name, ps in settings.providers.items():
        if model in ps.models:
            return providers.canonical(name)
    for name, endpoint in settings.endpoints.items():
        if model in endpoint.models:
            return name
    return None


def _pick(
    candidates: list[str], available: Availability, cooling: Mapping[str, tuple[float, str]]
) -> tuple[str, str]:
    states = {name: available(providers.canonical(name)) for name in candidates}
    skipped = [n for n in candidates if providers.canonical(n) in cooling]
    note = "".join(
        f"; {n} skipped: cooling ({cooling[providers.canonical(n)][1]})" for n in skipped
    )
    for name, state in states.items():
        if state is not None and state != "logged_out" and name not in skipped:
            return name, (
                f"{name} installed" + (" and logged in" if state == "logged_in" else "") + note
            )
    for name, state in states.items():
        if state is not None:
            return name, f"{name} installed but logged out (no candidate logged in)"
    return candidates[0], "no candidate installed"


def chain_of(spec: str) -> list[str]:
    """`a|b|c` -> [a, b, c]; a plain spec -> [spec]."""
    return [part.strip() for part in spec.split("|") if part.strip()] or [spec]


def route_all(
    models: Sequence[str],
    settings: Settings,
    env: Mapping[str, str],
    *,
    allow_cursor_claude: bool = False,
    allow_claude_cli: bool = False,
    cooling: Mapping[str, tuple[float, str]] | None = None,
) -> list[Route]:
    """Route every spec; raises ClaudeModelRefused / UnknownProvider on the first bad one."""
    available = availability(settings, env)
    return [
        route(spec, settings, available, allow_claude_cli, allow_cursor_claude, cooling)
        for spec in models
    ]
