"""Data at the package's boundaries: what a dispatch returns, and the pieces adapters exchange.

Public results (`Response`, `Usage`) are pydantic models with `extra="forbid"`; their JSON
Schema is generated into `schemas/` and pinned by a snapshot. The adapter-facing pieces
(`Invocation`, `RunOutput`, `Parsed`, `HttpCall`, `HttpReply`) are plain frozen dataclasses:
they never leave the process and are built on every call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, model_validator

from multi_model.calls import (  # re-exported: adapters import them from here too
    MODEL_ID_MAX as MODEL_ID_MAX,
    MODEL_ID_RE as MODEL_ID_RE,
    PROMPT_FILE as PROMPT_FILE,
    HttpCall as HttpCall,
    HttpReply as HttpReply,
    Invocation as Invocation,
    Request as Request,
    RunOutput as RunOutput,
    model_id_problem as model_id_problem,
)

Status = Literal[
    "ok",
    "not_installed",
    "auth_required",
    "rate_limited",
    "model_not_found",
    "timeout",
    "oversize",
    "empty_output",
    "bad_output",
    "network",
    "server_error",
    "crashed",
    "refused",
    "missing",
]
"""Failure classes. `network` and `server_error` are transient classes beyond the issue's list,
kept apart from `crashed` so that retry logic can tell them from a broken CLI. `missing`: a
council seat that delivered nothing before its stage's deadline (a Claude seat run by the
host, or a CLI seat whose worker outlived the deadline)."""

STATUSES: tuple[Status, ...] = Status.__args__  # type: ignore[attr-defined]


class Usage(BaseModel):
    """Token counts as the CLI reported them; None where it did not say.

    `input_tokens` counts every input token, cached ones included; `cached_input_tokens` is
    the part of it served from a cache (OpenAI's convention). Adapters of CLIs that report
    fresh and cached input apart (Anthropic, opencode) add them up."""

    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)

    input_tokens: int | None = None
    cached_input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    total_tokens: int | None = None
    cost_usd: float | None = None


class Attempt(BaseModel):
    """One try of one provider for a spec: the chain of retries and failovers behind a
    Response."""

    model_config = ConfigDict(
        extra="forbid", protected_namespaces=(), json_schema_serialization_defaults_required=True
    )

    provider: str
    model: str | None = Field(default=None, description="Model id sent to that provider.")
    status: Status
    error: str | None = None
    duration_s: float = 0.0
    retry_after_s: float | None = None
    next: Literal["done", "retry", "failover", "stop"] = Field(
        description="What followed: the answer (or final failure), a retry of the same "
        "provider after a backoff, the route's next provider, or nothing left "
        "(time or candidates)."
    )


class Response(BaseModel):
    """One model's answer (or failure) for one prompt."""

    model_config = ConfigDict(
        extra="forbid", protected_namespaces=(), json_schema_serialization_defaults_required=True
    )

    model: str = Field(description="The model spec as requested, e.g. 'codex:gpt-5.4-high'.")
    provider: str = Field(description="Provider that handled it, e.g. 'codex'.")
    text: str = Field(default="", description="The answer, exactly as the model wrote it.")
    status: Status
    error: str | None = None
    cli_used: str | None = Field(default=None, description="Executable path, or the URL for HTTP.")
    cli_version: str | None = None
    exit_code: int | None = None
    duration_s: float = 0.0
    usage: Usage | None = None
    session_id: str | None = None
    model_reported: str | None = Field(default=None, description="What the CLI says it ran.")
    retry_after_s: float | None = Field(
        default=None, description="Seconds until a rate limit resets, when the CLI said so."
    )
    truncated: bool = Field(default=False, description="Output exceeded the cap and was cut.")
    attempts: list[Attempt] = Field(
        default_factory=list,
        description="Every try behind this answer, in order, when "
        "there was more than one (retries, failover, providers skipped while cooling).",
    )
    metadata: dict[str, JsonValue] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _seed_style(cls, data: Any) -> Any:
        """A Response built the seed library's way (`model`, `text`, `cli_used`, `exit_code`,
        no `provider` or `status`) gets both derived (`derive_provider`, `derive_status`)."""
        if not isinstance(data, dict) or ("provider" in data and "status" in data):
            return data
        data = dict(data)
        data.setdefault("provider", derive_provider(data.get("model"), data.get("cli_used")))
        data.setdefault(
            "status", derive_status(data.get("exit_code"), data.get("text"), data.get("error"))
        )
        return data

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def model_requested(self) -> str | None:
        """The model id sent to the provider (None: its default), as routing recorded it."""
        value = self.metadata.get("model_requested")
        return value if isinstance(value, str) else None


SEED_AGENT_CLI = "agent-tool"
"""The seed library's `cli_used` for a Claude seat answered through Claude Code's Agent tool."""
AGENT_PROVIDER = "agent"


def derive_provider(model: object, cli_used: object) -> str:
    """The provider of a seed-style Response: `agent` for the Agent tool, the spec's
    `provider:` part, else the executable's name, else the model spec itself."""
    if cli_used == SEED_AGENT_CLI:
        return AGENT_PROVIDER
    if isinstance(model, str) and ":" in model:
        return model.partition(":")[0]
    if isinstance(cli_used, str) and cli_used:
        return cli_used.replace("\\", "/").rsplit("/", 1)[-1]
    return model if isinstance(model, str) else ""


def derive_status(exit_code: object, text: object, error: object) -> Status:
    """The status of a seed-style Response: exit 0 with text is ok, exit 0 without text
    empty_output, another exit code crashed; with no exit code, text is ok, an error
    crashed, and nothing at all missing."""
    answered = isinstance(text, str) and bool(text.strip())
    if exit_code is None:
        return "ok" if answered else "crashed" if error else "missing"
    if exit_code != 0:
        return "crashed"
    return "ok" if answered else "empty_output"


@dataclass(frozen=True)
class Parsed:
    """An adapter's reading of one run."""

    status: Status = "ok"
    text: str = ""
    error: str | None = None
    usage: Usage | None = None
    session_id: str | None = None
    model_reported: str | None = None
    retry_after_s: float | None = None
