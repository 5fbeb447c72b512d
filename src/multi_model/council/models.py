"""Council data: ballots, the tally, and the merged result. Pydantic, `extra="forbid"`.

Seats are named by their panel spec (`codex:gpt-5.4`, `gemini`, or `claude:opus` for a Claude
seat run by Claude Code's Agent tool); a spec used twice gets `#2`, `#3` appended.
Labels ("Response A", ...) are per reviewer: `BallotRecord.label_map` de-anonymizes one ballot.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from multi_model.models import Response

BallotStatus = Literal["valid", "invalid", "missing", "failed"]
"""valid: passed the whole pipeline; invalid: the reviewer answered, but even after the repair
retry the ballot did not validate (never guessed); missing: no reply before the deadline;
failed: the reviewer's call itself failed (see `error`)."""


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid", protected_namespaces=(), json_schema_serialization_defaults_required=True
    )


class Ballot(_Model):
    """What a reviewer returns: its task's token, every label best first, a critique of each."""

    token: str = Field(
        description="The token of the review task, repeated: only a ballot "
        "that carries it counts, so none quoted from an answer can."
    )
    ranking: list[str]
    critiques: dict[str, str]


class BallotRecord(_Model):
    reviewer: str = Field(description="Seat id of the reviewer.")
    seed: int = Field(description="Seed of this reviewer's shuffle.")
    label_map: dict[str, str] = Field(description="Label shown -> seat id.")
    status: BallotStatus
    ballot: Ballot | None = None
    errors: list[str] = Field(default_factory=list, description="Validation errors, last try.")
    attempts: int = 0
    error: str | None = Field(None, description="Why the call failed or went missing.")


class AggregateRow(_Model):
    seat: str
    place: int = Field(description="1 = best after the tie rule.")
    mean_rank: float | None = Field(description="Mean position, lower is better; self-votes out.")
    borda: float = Field(description="Borda points over the reduced ballots, higher is better.")
    votes: int = Field(description="Ballots that ranked this seat (its own excluded).")
    first_places: int = 0


class SelfPreference(_Model):
    reviewer: str
    own_position: int = Field(description="Where the reviewer put its own answer (1 = first).")
    others_mean_position: float | None = Field(
        description="Mean position the other reviewers gave that answer, on the same scale."
    )


class Synthesis(_Model):
    chairman: str = Field(description="Seat id or model spec that wrote the synthesis.")
    text: str
    fallback_from: list[str] = Field(
        default_factory=list, description="Chairmen that failed before this one."
    )


class CouncilResult(_Model):
    question: str
    stage1_responses: list[Response] = Field(description="One per seat, in panel order.")
    stage2_rankings: list[BallotRecord]
    aggregate_ranks: list[AggregateRow] = Field(description="Best first.")
    stage3_synthesis: Synthesis | None
    chairman_model: str | None
    metadata: dict[str, JsonValue] = Field(default_factory=dict)

    def to_dict(self) -> dict[str, JsonValue]:
        return self.model_dump(mode="json")
