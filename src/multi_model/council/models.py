"""Council data: ballots, the tally, and the merged result. Pydantic, `extra="forbid"`.

Seats are named by their panel spec (`codex:gpt-5.4`, `gemini`, or `claude:opus` for a Claude
seat run by Claude Code's Agent tool); a spec used twice gets `#2`, `#3` appended.
Labels ("Response A", ...) are per reviewer: `BallotRecord.label_map` de-anonymizes one ballot.
A `Ballot`'s fields are in the order a reviewer writes them (critiques, then the ranking); key
order is never checked, so ballots written ranking-first, as before, still load.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, computed_field, model_validator

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
    """What a reviewer returns: its task's token, a critique of each label, then every label
    best first (reason before rank)."""

    token: str = Field(
        description="The token of the review task, repeated: only a ballot "
        "that carries it counts, so none quoted from an answer can."
    )
    critiques: dict[str, str]
    ranking: list[str]


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


SEED_KEYS = ("stage1_responses", "stage2_rankings", "aggregate_ranks", "stage3_synthesis")
"""The seed library's documented fields: computed from the records, so never read back."""
_RENAMED = dict(zip(SEED_KEYS, ("answers", "ballots", "standings", "synthesis"), strict=True))


class CouncilResult(_Model):
    """The merged council. The records are `answers`, `ballots`, `standings`, `synthesis`;
    the seed library's documented fields (`stage1_responses` {seat: text},
    `stage2_rankings` {reviewer: [seat, ...]} best first, `aggregate_ranks` {seat: mean
    rank}, `stage3_synthesis` the chairman's text) are computed from them, and both are in
    `to_dict()` / the JSON, which loads back."""

    question: str
    answers: list[Response] = Field(description="One per seat, in panel order.")
    ballots: list[BallotRecord]
    standings: list[AggregateRow] = Field(description="Best first.")
    synthesis: Synthesis | None
    chairman_model: str = Field("", description="The seat that wrote the synthesis; '' if none.")
    metadata: dict[str, JsonValue] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _read_back(cls, data: Any) -> Any:
        """Drop the computed seed fields from a dump; read a result written before the
        records were renamed (its seed-named fields held the records)."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for seed, rich in _RENAMED.items():
            value = data.pop(seed, None)
            if rich not in data and (isinstance(value, list) or seed == "stage3_synthesis"):
                data[rich] = value
        if data.get("chairman_model") is None:
            data["chairman_model"] = ""
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def stage1_responses(self) -> dict[str, str]:
        """{seat: text} for every seat that answered, in panel order."""
        return {r.model: r.text for r in self.answers if r.ok}

    @computed_field  # type: ignore[prop-decorator]
    @property
    def stage2_rankings(self) -> dict[str, list[str]]:
        """{reviewer: [seat, ...]} best first, for every valid ballot."""
        return {
            b.reviewer: [b.label_map[label] for label in b.ballot.ranking]
            for b in self.ballots
            if b.status == "valid" and b.ballot is not None
        }

    @computed_field  # type: ignore[prop-decorator]
    @property
    def aggregate_ranks(self) -> dict[str, float]:
        """{seat: mean rank position} best first (1.0 = always first); unranked seats out."""
        return {r.seat: r.mean_rank for r in self.standings if r.mean_rank is not None}

    @computed_field  # type: ignore[prop-decorator]
    @property
    def stage3_synthesis(self) -> str:
        """The chairman's text; '' when no chairman wrote one."""
        return self.synthesis.text if self.synthesis else ""

    def to_dict(self) -> dict[str, JsonValue]:
        return self.model_dump(mode="json")
