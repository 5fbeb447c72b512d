"""The MCP tools: each one's arguments as a pydantic model, whose JSON Schema the client sees
(trimmed: no titles, `X | None` shown as X), and a short description. Named model tools come
from `[mcp.tools.NAME]` in the user config (config.py keeps them out of project files)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from multi_model.config import DAY, Settings

MAX_PROMPT = 1_000_000
"""Characters a prompt may have (a bigger one is an error, not a slow call)."""
Spec = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/@|-]{0,199}$")]
Prompt = Annotated[str, Field(min_length=1, max_length=MAX_PROMPT)]
JobId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Ask(_Args):
    models: list[Spec] = Field(
        min_length=1, max_length=20, description="specs: codex, gemini:gemini-3-pro, ..."
    )
    prompt: Prompt
    timeout: float | None = Field(None, gt=0, le=DAY, description="seconds per model")
    session: Name | None = Field(None, description="continue this conversation")
    background: bool = Field(False, description="return a job id at once")


class NamedAsk(_Args):
    prompt: Prompt
    timeout: float | None = Field(None, gt=0, le=DAY, description="seconds")


class CouncilStart(_Args):
    question: Prompt
    models: list[Spec] | None = Field(
        None, min_length=2, max_length=12, description="CLI seats (default: one per CLI)"
    )
    chairman: Spec | None = None
    timeout: float | None = Field(None, gt=0, le=DAY, description="seconds per seat")


class Job(_Args):
    job: JobId


class Detect(_Args):
    check_auth: bool = Field(False, description="also check each CLI's login")


class Models(_Args):
    provider: Name | None = None


class Review(_Args):
    paths: list[Annotated[str, Field(min_length=1, max_length=4096)]] = Field(
        default_factory=list, max_length=500, description="files (default: the change)"
    )
    models: list[Spec] | None = Field(None, max_length=10, description="reviewers")
    timeout: float | None = Field(None, gt=0, le=DAY)


class History(_Args):
    since: Annotated[str, Field(max_length=40)] | None = Field(None, description="24h, 7d, date")
    provider: Name | None = None


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    args: type[_Args]
    model: str | None = None
    """A named model tool's model spec."""

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = trim(self.args.model_json_schema())
        return schema


TOOLS: tuple[Tool, ...] = (
    Tool("ask", "Ask other AI models one prompt in parallel; answers in input order.", Ask),
    Tool("council_start", "Start a council of CLI models (answer, blind rank, synthesis); "
         "returns a job id.", CouncilStart),
    Tool("job_status", "Where a job (council or background ask) stands.", Job),
    Tool("job_result", "A finished job's result.", Job),
    Tool("job_cancel", "Cancel a running job.", Job),
    Tool("detect", "Which model CLIs are installed and logged in.", Detect),
    Tool("models", "The models each provider offers.", Models),
    Tool("review", "Other models review the working tree's change or the named files.", Review),
    Tool("history", "Per-provider call statistics.", History),
)  # fmt: skip


def named_tools(settings: Settings) -> tuple[Tool, ...]:
    """One tool per `[mcp.tools.NAME]`; a name that shadows a built-in tool is left out."""
    builtin = {t.name for t in TOOLS}
    return tuple(
        Tool(name, entry.description, NamedAsk, model=entry.model)
        for name, entry in sorted(settings.mcp.tools.items())
        if name not in builtin
    )


def trim(schema: Any) -> Any:
    """The schema without what costs context and tells a model little: titles, patterns (the
    server still checks them), `null` branches of an optional value, `default: null`."""
    if isinstance(schema, list):
        return [trim(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: trim(v) for k, v in schema.items() if k not in ("title", "pattern")}
    branches = out.get("anyOf")
    if isinstance(branches, list) and {"type": "null"} in branches:
        rest = [b for b in branches if b != {"type": "null"}]
        if len(rest) == 1:
            del out["anyOf"]
            out = {**rest[0], **out}
    if out.get("default", 0) is None:
        del out["default"]
    return out


def size(tools: tuple[Tool, ...]) -> int:
    """Characters of the tool list a client puts in its model's context: names,
    descriptions and compact JSON schemas."""
    import json  # noqa: PLC0415 - only the size check needs it

    return sum(
        len(t.name) + len(t.description) + len(json.dumps(t.schema(), separators=(",", ":")))
        for t in tools
    )
