"""Settings: one model, one loader, and the source of every value.

Precedence, lowest first: built-in defaults, the user file (`~/.config/multi-model/config.toml`,
or `$MULTI_MODEL_HOME/config.toml`), the project file (`.claude/multi-model.toml` in the
working directory or a parent), the environment (`OLLAMA_HOST`), then command-line flags.
A project file comes with whatever repository is checked out, so it may set only timeouts,
routes and models (`PROJECT_KEYS`); anything that decides what runs, what it may write, or
where prompts and keys go belongs to the user. Even those few are untrusted: model ids are
strict tokens (they reach argv), every number has a range, and routing knows which rules came
from a project file (`RouteRule.from_project`: never to an opt-in provider, patterns bounded).
`MULTI_MODEL_HOME` relocates config and data together (tests point it at a temp dir).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator

from multi_model.bounded import PatternError, compiled
from multi_model.errors import ConfigError
from multi_model.models import model_id_problem
from multi_model.paths import data_dir, user_config_path  # noqa: F401 - data_dir re-exported

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


def _model_id(value: str) -> str:
    problem = model_id_problem(value)
    if problem:
        raise ValueError(problem)
    return value


ModelId = Annotated[str, AfterValidator(_model_id)]
"""A model id from a config file: it reaches a CLI's argv, so a strict token (`--yolo` is not)."""
ProviderName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
DAY = 86400.0
Seconds = Annotated[float, Field(gt=0, le=DAY)]
"""A timeout: positive, at most a day (a larger one is a typo, and overflows timers)."""
Delay = Annotated[float, Field(ge=0, le=DAY)]
MaxTokens = Annotated[int, Field(ge=1, le=1_000_000)]
"""An output cap in tokens; the per-call timeout still bounds the call whatever it is."""


class ProviderSettings(_Strict):
    binary: str | None = Field(None, description="Executable name or path to use instead.")
    args: list[str] = Field(default_factory=list, description="Extra arguments for every call.")
    env: list[str] = Field(default_factory=list, description="More env vars passed through.")
    timeout: Seconds | None = Field(None, description="Per-call timeout for this provider.")
    model: ModelId | None = Field(None, description="Model used when the spec names none.")
    models: list[ModelId] = Field(default_factory=list, description="Bare names routed here.")
    allow_writes: bool = Field(False, description="Start the CLI in a mode that may edit files.")
    max_tokens: MaxTokens | None = Field(
        None, description="Output cap sent to a model server (ollama); default: max_tokens."
    )


class EndpointSettings(_Strict):
    """An OpenAI-compatible server (LiteLLM proxy, vLLM, LocalAI, llama.cpp server)."""

    base_url: str = Field(description="Base URL including /v1, e.g. http://127.0.0.1:4000/v1")
    key_env: str | None = Field(None, description="Env var holding the API key, if any.")
    model: ModelId | None = None
    models: list[ModelId] = Field(default_factory=list, description="Bare names routed here.")
    timeout: Seconds | None = None
    max_tokens: MaxTokens | None = Field(
        None, description="Output cap sent with each request; default: the top-level max_tokens."
    )
    stream: bool = Field(
        False, description="Ask for a streamed (SSE) reply: bytes keep flowing through proxies."
    )


class RouteRule(_Strict):
    match: str = Field(
        max_length=300,
        description="Regex, matched case-insensitively against "
        "a bare model id (on the `regex` engine, with a timeout).",
    )
    providers: list[ProviderName] = Field(
        min_length=1, max_length=20, description="Candidates, most preferred first."
    )
    origin: str = Field("", description="Set by the loader: the file and key of this rule.")
    from_project: bool = Field(False, description="Set by the loader: a project file's rule.")

    @field_validator("match")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            compiled(value)
        except (PatternError, ValueError) as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    def where(self, key: str) -> str:
        """'<file>: routes.<n>.<key>', for errors about this rule."""
        return f"{self.origin}.{key}" if self.origin else f"built-in route /{self.match}/ {key}"


class ReviewSettings(_Strict):
    """`[review]`: the hook-driven review of Claude's edits (user file only: it decides what
    code leaves the machine). The hooks read `mode`, `block_on` and `stop_wait` with the
    stdlib, so keep those plain values."""

    mode: Literal["off", "stop", "edit"] = Field(
        "off", description="off, stop (review a turn's edits at Stop), edit (as they happen)."
    )
    reviewers: list[str] = Field(
        default_factory=list,
        description="Model specs that review edits (empty: the first logged-in CLI).",
    )
    block_on: Literal["critical", "high", "medium", "low", "never"] = Field(
        "high", description="Stop is blocked once for findings at or above this severity."
    )
    stop_wait: float = Field(
        90.0, ge=0, le=180, description="Seconds Stop waits for pending reviews."
    )
    quiet: float = Field(3.0, ge=0, le=600, description="Edits closer than this are one batch.")
    max_batch_wait: float = Field(
        20.0, gt=0, le=3600, description="A batch waits at most this long."
    )
    idle_exit: Seconds = Field(
        120.0, description="The session's reviewer exits after this long without edits."
    )
    timeout: Seconds = Field(300.0, description="Per-reviewer timeout in seconds.")
    deny: list[str] = Field(default_factory=list, description="More globs never sent.")
    read_project: bool = Field(
        False,
        description="Run reviewers in the project folder, so "
        "they may read files beyond what is sent (deny list included).",
    )


class RetrySettings(_Strict):
    """Retries of transient failures and failover along a model's route."""

    max_retries: int = Field(
        2,
        ge=0,
        le=10,
        description="Retries of one provider after a "
        "transient failure (rate limit with a short reset, 5xx, network).",
    )
    base_delay: float = Field(2.0, ge=0, le=3600, description="First backoff in seconds; doubles.")
    max_delay: Delay = Field(30.0, description="Longest single backoff.")
    short_reset: Delay = Field(
        60.0,
        description="A rate limit resetting within this "
        "many seconds is waited out; a longer one fails over.",
    )
    failover: bool = Field(
        True,
        description="Try the route's next provider on not_installed, "
        "auth_required, model_not_found or a long rate limit.",
    )


class PriceSettings(_Strict):
    """USD per million tokens."""

    input: float = Field(ge=0, le=1e6)
    cached_input: float | None = Field(None, ge=0, le=1e6, description="Default: the input price.")
    output: float = Field(ge=0, le=1e6)


class HistorySettings(_Strict):
    enabled: bool = Field(True, description="Record every call in the state store.")
    keep_text: bool = Field(False, description="Also keep prompt and answer texts.")


CallCap = Annotated[int, Field(ge=0, le=1_000_000)]


class PolicySettings(_Strict):
    """Limits on what may be called (user file only). Checked before anything starts."""

    allow: list[str] = Field(default_factory=list, description="Only these providers (empty: all).")
    block: list[str] = Field(default_factory=list, description="Never these providers.")
    max_calls_per_hour: dict[str, CallCap] = Field(
        default_factory=dict, description="provider (or '*') -> calls allowed in the last hour."
    )
    max_calls_per_day: dict[str, CallCap] = Field(
        default_factory=dict, description="provider (or '*') -> calls allowed in the last 24 h."
    )
    max_timeout: Seconds | None = Field(None, description="Longest timeout a call may ask.")
    hook_providers: list[str] | None = Field(
        None,
        description="Providers that may see code from the edit-review hooks (None: any allowed).",
    )


class TaskSettings(_Strict):
    """One task's models: each entry is one seat, `primary|fallback|...`."""

    models: list[str] = Field(min_length=1, description="Seats; `a|b` asks b when a fails.")
    timeout: Seconds | None = Field(None, description="Per seat, chain included.")


class McpToolSettings(_Strict):
    """`[mcp.tools.NAME]` (user file only): an MCP tool that asks one model."""

    model: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/@|-]{0,199}$", description="Spec.")
    description: str = Field(min_length=1, max_length=500, description="What it is good for.")


class McpSettings(_Strict):
    tools: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,47}$")], McpToolSettings] = Field(
        default_factory=dict, description="`mm mcp`: named model tools."
    )


class Settings(_Strict):
    timeout: Seconds = Field(300.0, description="Per-model timeout in seconds.")
    probe_timeout: float = Field(10.0, gt=0, le=600, description="Timeout of version/auth probes.")
    output_cap_mb: float = Field(10.0, gt=0, le=1024, description="Per-stream output cap.")
    max_tokens: MaxTokens = Field(4096, description="Output cap sent to model servers (HTTP).")
    ollama_host: str | None = Field(None, description="Ollama server; default 127.0.0.1:11434.")
    allow_claude_cli: bool = False
    allow_cursor_claude: bool = False
    routes: list[RouteRule] = Field(default_factory=list, description="Checked before defaults.")
    providers: dict[str, ProviderSettings] = Field(default_factory=dict)
    endpoints: dict[str, EndpointSettings] = Field(default_factory=dict)
    review: ReviewSettings = Field(default_factory=ReviewSettings)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    policy: PolicySettings = Field(default_factory=PolicySettings)
    history: HistorySettings = Field(default_factory=HistorySettings)
    tasks: dict[str, TaskSettings] = Field(
        default_factory=dict, description="--task NAME -> models; over the built-in table."
    )
    profiles: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="--profile NAME -> settings laid over these."
    )
    prices: dict[str, PriceSettings] = Field(
        default_factory=dict, description="Model glob -> price; checked before the defaults."
    )
    mcp: McpSettings = Field(default_factory=McpSettings)

    def provider(self, name: str) -> ProviderSettings:
        return self.providers.get(name) or ProviderSettings()

    def max_tokens_for(self, name: str) -> int:
        """The output cap for provider or endpoint `name`: its own, else `max_tokens`."""
        endpoint = self.endpoints.get(name)
        own = endpoint.max_tokens if endpoint else self.provider(name).max_tokens
        return own or self.max_tokens


@dataclass(frozen=True)
class Loaded:
    settings: Settings
    sources: dict[str, str]
    """Dotted key -> where its value came from ('default', a file path, 'env OLLAMA_HOST',
    'flag')."""


def provider_env(settings: Settings, env: Mapping[str, str]) -> dict[str, str]:
    """The environment adapters see: `env`, with settings that adapters read from it applied."""
    merged = dict(env)
    if settings.ollama_host:
        merged["OLLAMA_HOST"] = settings.ollama_host
    return merged


def project_config_path(cwd: Path) -> Path | None:
    for folder in (cwd, *cwd.parents):
        candidate = folder / ".claude" / "multi-model.toml"
        if candidate.is_file():
            return candidate
    return None


def load_settings(
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> Loaded:
    """Merge every layer. Raises ConfigError with the file and the problem."""
    env = os.environ if env is None else env
    merged: dict[str, Any] = {}
    sources: dict[str, str] = {}
    layers: list[tuple[str, dict[str, Any]]] = []
    user = user_config_path(env)
    if user.is_file():
        layers.append((str(user), _stamp_routes(_read_toml(user), str(user), False)))
    project = project_config_path(Path(cwd or os.getcwd()))
    if project is not None:
        data = _read_toml(project)
        _check_project_keys(data, project, user)
        layers.append((str(project), _stamp_routes(data, str(project), True)))
    if env.get("OLLAMA_HOST"):
        layers.append(("env OLLAMA_HOST", {"ollama_host": env["OLLAMA_HOST"]}))
    if flags:
        layers.append(("flag", dict(flags)))
    for source, data in layers:
        _merge(merged, data, source, sources, "")
    try:
        settings = Settings.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"{_origin(where, sources, layers)}: {where}: {' '.join(first['msg'].split())}"
        ) from None
    return Loaded(settings=settings, sources=sources)


def _origin(
    where: str, sources: Mapping[str, str], layers: list[tuple[str, dict[str, Any]]]
) -> str:
    """The layer that set dotted key `where` or its nearest parent (a list, such as routes,
    is set whole), else the first layer."""
    parts = where.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in sources:
            return sources[".".join(parts[:end])]
    return next(iter(s for s, _ in layers), "settings")


def _stamp_routes(data: dict[str, Any], source: str, project: bool) -> dict[str, Any]:
    """`data` with each `[[routes]]` entry marked with its file and key, and whether a
    project file set it; a file cannot set those marks itself."""
    routes = data.get("routes")
    if not isinstance(routes, list):
        return data
    stamped: list[object] = []
    for n, rule in enumerate(routes):
        if isinstance(rule, Mapping):
            taken = sorted({"origin", "from_project"} & rule.keys())
            if taken:
                raise ConfigError(f"{source}: routes.{n}.{taken[0]}: set by mm, not by a file")
            rule = {**rule, "origin": f"{source}: routes.{n}", "from_project": project}
        stamped.append(rule)
    return {**data, "routes": stamped}


PROJECT_KEYS = re.compile(
    r"(timeout|probe_timeout|output_cap_mb|routes|providers\.[^.]+\.(model|models|timeout))"
)
"""What a project file may set. It arrives with a cloned repository, so it cannot name
binaries, arguments, environment variables, write access, endpoints, hosts or opt-ins."""


def _check_project_keys(data: Mapping[str, Any], path: Path, user: Path) -> None:
    for key in _dotted_keys(data):
        if not PROJECT_KEYS.fullmatch(key):
            raise ConfigError(
                f"{path}: {key} may only be set in the user config ({user}): a project file "
                "cannot change binaries, arguments, environment, write access, endpoints, "
                "hosts or opt-ins"
            )


def _dotted_keys(data: Mapping[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for key, value in data.items():
        if isinstance(value, Mapping) and value:
            keys += _dotted_keys(value, f"{prefix}{key}.")
        else:
            keys.append(f"{prefix}{key}")
    return keys


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _merge(
    into: dict[str, Any], data: Mapping[str, Any], source: str, sources: dict[str, str], prefix: str
) -> None:
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            child = into.setdefault(key, {})
            if not isinstance(child, dict):
                child = into[key] = {}
            _merge(child, value, source, sources, dotted + ".")
        else:
            into[key] = value
            sources[dotted] = source
