"""Ballots: the per-task JSON Schema a reviewer's reply must match, and the one parse path
(`structured.validate_keyed` plus a permutation check). Pure; never guesses a ranking.

The schema is `Ballot.model_json_schema()` specialised to the task one reviewer was given:
`token` is the task's token (fresh and secret per task, so a ballot quoted from an answer can
never carry it; the one object that does is the ballot, whatever its position),
`critiques` has exactly one non-blank critique of at most CRITIQUE_MAX characters per label,
and `ranking` (after the critiques: reason, then rank) is exactly those labels, each once.
`permutation_errors` re-checks the label rules on the model itself, so a ballot that reached
`Ballot` some other way (no schema) is held to them too.

A ballot must be the reviewer's own work (`own_work_errors`): no critique may be a placeholder
(the prompt's example text, a stock filler, a label, an `<...>` template slot) and the critiques
may not all be one text. The prompt's example (`EXAMPLE`) is built so that it can never be a
valid ballot: its token and labels are `<...>` slots, never a run's.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter

from multi_model.council.models import Ballot
from multi_model.schemas import DRAFT
from multi_model.structured import Structured, validate_keyed

TITLE = "multi-model council ballot"
CRITIQUE_MAX = 1000
EXAMPLE_CRITIQUE = "<what this answer gets right, and what is wrong or missing>"
EXAMPLE: dict[str, object] = {
    "token": "<this task's token>",
    "critiques": {
        "<one label>": EXAMPLE_CRITIQUE,
        "<another label>": "<the same for that answer, in your own words>",
    },
    "ranking": ["<the better label>", "<the worse label>"],
}
"""The prompts' ballot example: the shape only. Every value is a slot, so a copy is invalid."""
PLACEHOLDERS = frozenset(
    {
        "",
        "one or two sentences",  # the example of the first prompts, copied by a small model
        "critique",
        "your critique",
        "todo",
        "tbd",
        "n a",
        "na",
        "none",
        "placeholder",
    }
)
_NOT_WORD = re.compile(r"[\W_]+")


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


def example_ballot() -> str:
    """The example a prompt shows: `EXAMPLE` as indented JSON."""
    return json.dumps(EXAMPLE, indent=2)


def _words(text: str) -> str:
    """Lower-case words joined by single spaces: "One or two sentences." -> "one or two
    sentences"."""
    return " ".join(_NOT_WORD.sub(" ", text.casefold()).split())


def _placeholder(text: str, labels: list[str]) -> bool:
    stripped = text.strip()
    if stripped.startswith("<") and stripped.endswith(">"):
        return True  # a template slot, the example's or the reviewer's own
    words = _words(text)
    return words in PLACEHOLDERS or words in {_words(lb) for lb in labels}


def own_work_errors(ballot: Ballot, labels: list[str]) -> list[str]:
    """Why `ballot`'s critiques are not the reviewer's own: placeholders (in label order), or
    one text for every answer; [] when they pass. A ballot with a single label is only held to
    the first rule."""
    errors = [
        f"$.critiques[{json.dumps(lb)}]: a placeholder, not a critique of that answer"
        for lb in labels
        if lb in ballot.critiques and _placeholder(ballot.critiques[lb], labels)
    ]
    texts = {_words(ballot.critiques[lb]) for lb in labels if lb in ballot.critiques}
    if len(labels) > 1 and len(ballot.critiques) == len(labels) and len(texts) == 1:
        errors.append("$.critiques: the same text for every answer; critique each one")
    return errors


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
        lambda b: permutation_errors(b, labels) or own_work_errors(b, labels),
    )
