"""Ballots: the per-task JSON Schema a reviewer's reply must match, and the one parse path
(`structured.validate_keyed` plus a permutation check). Pure; never guesses a ranking.

The schema is `Ballot.model_json_schema()` specialised to the task one reviewer was given:
`token` is the task's token (fresh and secret per task, so a ballot quoted from an answer can
never carry it; the one object that does is the ballot, whatever its position),
`ranking` is exactly those labels, each once; `critiques` has exactly one non-blank critique of
at most CRITIQUE_MAX characters per label. `permutation_errors` re-checks the label rules on the
model itself, so a ballot that reached `Ballot` some other way (no schema) is held to them too.
"""

from __future__ import annotations

import copy
from collections import Counter

from multi_model.council.models import Ballot
from multi_model.schemas import DRAFT
from multi_model.structured import Structured, validate_keyed

TITLE = "multi-model council ballot"
CRITIQUE_MAX = 1000


def ballot_schema(labels: list[str], token: str) -> dict[str, object]:
    """The Draft 2020-12 schema of a ballot over `labels` (in the order shown) for the task with
    `token`. Raises ValueError when `labels` is empty or repeats a label, or `token` is empty
    (a caller's bug, not model output)."""
    if not labels or len(set(labels)) != len(labels):
        raise ValueError(f"labels must be non-empty and distinct: {labels!r}")
    if not token:
        raise ValueError("empty ballot token")
    generated = copy.deepcopy(Ballot.model_json_schema())
    generated.pop("title", None)
    generated["properties"]["token"].update(const=token)
    ranking, critiques = generated["properties"]["ranking"], generated["properties"]["critiques"]
    ranking.update(
        description="Every label exactly once, best first.",
        items={**ranking["items"], "enum": list(labels)},
        minItems=len(labels),
        maxItems=len(labels),
        uniqueItems=True,
    )
    critique = {
        **critiques["additionalProperties"],
        "minLength": 1,
        "maxLength": CRITIQUE_MAX,
        "pattern": r"\S",
    }  # a blank critique is no critique
    critiques.update(
        description="One short critique per label.",
        properties={label: dict(critique) for label in labels},
        required=list(labels),
        additionalProperties=False,
    )
    return {"$schema": DRAFT, "title": TITLE, **generated}


def permutation_errors(ballot: Ballot, labels: list[str]) -> list[str]:
    """Why `ballot` is not one full ranking of `labels` with one critique per label; [] when it
    is. Deterministic order: ranking (unknown, repeated, missing), then critiques (unknown,
    missing); unknown and repeated labels in order of appearance, missing ones in label order."""
    shown = set(labels)
    counts = Counter(ballot.ranking)
    return (
        [f"$.ranking: {lb!r} is not one of the labels shown" for lb in counts if lb not in shown]
        + [
            f"$.ranking: {lb!r} is listed {n} times"
            for lb, n in counts.items()
            if n > 1 and lb in shown
        ]
        + [f"$.ranking: {lb!r} is missing" for lb in labels if lb not in counts]
        + [
            f"$.critiques: {key!r} is not one of the labels shown"
            for key in ballot.critiques
            if key not in shown
        ]
        + [f"$.critiques: {lb!r} has no critique" for lb in labels if lb not in ballot.critiques]
    )


def parse_ballot(text: str, labels: list[str], token: str) -> Structured[Ballot]:
    """A reviewer's reply -> its ballot over `labels`, or the errors to quote in the repair retry.
    The ballot is the one object whose "token" is `token` (none, or more than one: errors).
    Never raises for bad model output."""
    return validate_keyed(
        text,
        "token",
        token,
        ballot_schema(labels, token),
        Ballot,
        lambda b: permutation_errors(b, labels),
    )
