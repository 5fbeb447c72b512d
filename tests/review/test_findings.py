"""The findings text a hook hands Claude (review/findings.py)."""

from __future__ import annotations

from multi_model.review.findings import format_findings


def test_findings_text_is_cut_to_the_limit_and_says_which_it_holds() -> None:
    many = [
        (
            f"k{n}",
            {
                "file": "a.py",
                "line": n,
                "severity": "low" if n % 2 else "critical",
                "title": f"issue {n}",
                "detail": "d" * 500,
                "reviewers": ["codex"],
                "agreement": "1 of 1",
            },
        )
        for n in range(1, 60)
    ]
    text, included = format_findings(many, limit=3000)
    assert len(text) <= 3000 and text.startswith("1. critical a.py:2: issue 2 (1 of 1: codex)")
    assert text.endswith(f"... and {59 - len(included)} more, shown next time")
    assert included[:2] == ["k2", "k4"] and all(f"issue {k[1:]}" in text for k in included)
