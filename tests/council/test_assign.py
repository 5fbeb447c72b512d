"""k reviewers per answer: a balanced, seeded design, and a council run on partial ballots."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from multi_model.council.assign import shown_to
from multi_model.council.run import run_council
from multi_model.council.store import RunStore
from multi_model.models import Response
from tests.security.test_ballots import TOKEN_RE, first

SEATS = [f"seat{i}" for i in range(9)]


@pytest.mark.parametrize("k", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("seed", [0, 1, 99])
def test_every_answer_gets_k_reviewers_and_every_reviewer_k_answers(k: int, seed: int) -> None:
    shown = {r: shown_to(SEATS, r, k, seed) for r in SEATS}
    assert all(len(s) == k and r not in s for r, s in shown.items())
    assert Counter(seat for s in shown.values() for seat in s) == dict.fromkeys(SEATS, k)
    assert shown == {r: shown_to(SEATS, r, k, seed) for r in SEATS}  # deterministic


def test_the_design_follows_the_seed_and_defaults_to_everything() -> None:
    assert {r: shown_to(SEATS, r, 2, 1) for r in SEATS} != {
        r: shown_to(SEATS, r, 2, 2) for r in SEATS
    }
    assert shown_to(SEATS, "seat0", None, 1) == SEATS
    assert shown_to(SEATS, "seat0", len(SEATS) - 1, 1) == SEATS  # k >= n - 1: all, as before
    assert len(shown_to(SEATS, "outsider", 3, 1)) == 3
    with pytest.raises(ValueError, match="at least 1"):
        shown_to(SEATS, "seat0", 0, 1)


class Panel:
    """Answers of growing length; every reviewer ranks the labels it was shown in order."""

    def __init__(self) -> None:
        self.review_chars = 0

    def __call__(self, prompt: str, models: list[str]) -> list[Response]:
        return [self.one(prompt, m) for m in models]

    def one(self, prompt: str, model: str) -> Response:
        if prompt.startswith("# TASK\n\nYou are one reviewer"):
            self.review_chars += len(prompt)
            labels = sorted(set(re.findall(r"<<<BEGIN \S+ (Response [A-Z]+)>>>", prompt)))
            text = json.dumps(
                {
                    "token": first(TOKEN_RE, prompt),
                    "critiques": {lb: f"{model} on {lb}" for lb in labels},
                    "ranking": labels,
                }
            )
        elif "<<<BEGIN" in prompt:
            text = "synthesis"
        else:
            text = f"answer from {model} " + "x" * 1000
        return Response(model=model, provider=model, status="ok", text=text, exit_code=0)


def test_a_council_with_k_reviewers_tallies_partial_ballots(tmp_path: Path) -> None:
    full, partial = Panel(), Panel()
    run_council("Q?", SEATS, dispatch_fn=full, seed=5, store=RunStore(tmp_path / "all"))
    result = run_council(
        "Q?",
        SEATS,
        dispatch_fn=partial,
        seed=5,
        store=RunStore(tmp_path / "k"),
        reviewers_per_answer=3,
    )
    assert all(len(b.label_map) == 3 and b.status == "valid" for b in result.ballots)
    assert [r.votes for r in result.standings] == [3] * len(SEATS)
    assert result.metadata["reviewers_per_answer"] == 3
    audit = result.metadata["audit"]
    assert audit["agreement"]["kendall_w"] is None  # partial rankings: W undefined
    assert audit["self_preference"]["reviewers"] == []  # nobody saw its own answer
    assert len(audit["strengths"]["seats"]) == len(SEATS)
    assert audit["position"]["favours"] == "earlier"  # every reviewer kept the order shown
    assert partial.review_chars < full.review_chars * 3 / 8 * 1.2
