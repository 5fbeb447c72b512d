"""Reviewers' findings: the one parse path (never a guess) and the merge across reviewers."""

from __future__ import annotations

import pytest

from multi_model.review.merge import RawFinding, merge, parse_findings
from tests.review.conftest import finding, reply


def test_duplicates_collapse_and_say_who_raised_them() -> None:
    by = {
        name: parse_findings(text)[0]
        for name, text in {
            "codex": reply(finding(2, "Division by zero in f"), finding(9, "Unused import", "low")),
            "gemini": reply(finding(3, "f divides by zero", "critical")),
            "qwen": reply(finding(40, "Division by zero in f")),
        }.items()
    }
    merged = merge(by, ran=3)
    top = merged[0]
    assert (top.severity, top.line, top.reviewers, top.agreement) == (
        "critical",
        2,
        ["codex", "gemini"],
        "2 of 3",
    )
    assert [(f.line, f.agreement) for f in merged[1:]] == [(40, "1 of 3"), (9, "1 of 3")]


def test_two_findings_of_one_reviewer_on_one_line_stay_two() -> None:
    same_words = {"detail": "the line contains a call that runs data as code"}
    by = {
        "codex": [
            RawFinding(**{**finding(2, "eval on data"), **same_words}),
            RawFinding(**{**finding(2, "unfinished TODO", "low"), **same_words}),
        ],
        "gemini": [RawFinding(**{**finding(2, "eval on data"), **same_words})],
    }
    merged = merge(by, ran=2)
    assert [(f.title, f.reviewers) for f in merged] == [
        ("eval on data", ["codex", "gemini"]),
        ("unfinished TODO", ["codex"]),
    ]


@pytest.mark.parametrize(
    "text", ["No issues found!", '{"findings": [{"file": "a.py"}]}', '{"findings": [], "extra": 1}']
)
def test_invalid_findings_are_errors_never_guesses(text: str) -> None:
    findings, errors = parse_findings(text)
    assert findings is None and errors
