"""Reviewers' JSON findings: the reply schema, its one parse path (the same extract ->
schema -> model pipeline as council ballots), and the merge across reviewers."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from multi_model.schemas import DRAFT
from multi_model.structured import validate

Severity = Literal["critical", "high", "medium", "low"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low")
NEARBY_LINES = 3
SAME_ISSUE = 0.25  # word overlap (Jaccard) of titles, or of details, that makes two the same


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RawFinding(_Model):
    """One finding as a reviewer returns it."""

    file: str = Field(min_length=1)
    line: int | None = Field(None, ge=1)
    severity: Severity
    title: str = Field(min_length=1, max_length=200)
    detail: str = Field(min_length=1, max_length=4000)
    suggestion: str | None = Field(None, max_length=4000)


class FindingsReply(_Model):
    findings: list[RawFinding]


class Finding(RawFinding):
    """A merged finding: what one or more reviewers raised about the same place."""

    reviewers: list[str] = Field(description="Reviewers that raised it.")
    agreement: str = Field(description='"2 of 3": reviewers that raised it, of those that ran.')


def findings_schema() -> dict[str, object]:
    return {"$schema": DRAFT, **FindingsReply.model_json_schema()}


def parse_findings(text: str) -> tuple[list[RawFinding] | None, list[str]]:
    parsed = validate(text, findings_schema(), FindingsReply)
    return (parsed.value.findings if parsed.value else None), parsed.errors


def merge(by_reviewer: Mapping[str, Sequence[RawFinding]], ran: int) -> list[Finding]:
    """One Finding per issue: same file, lines within NEARBY_LINES (or both unknown), and
    titles or details that share enough words, raised by different reviewers (two findings
    of one reviewer are two issues). Most severe first, then most agreed."""
    groups: list[tuple[RawFinding, list[tuple[str, RawFinding]]]] = []
    for reviewer, findings in by_reviewer.items():
        for f in findings:
            group = next(
                (
                    g
                    for g in groups
                    if _same(g[0], f)  # one reviewer: distinct issues
                    and all(r != reviewer for r, _ in g[1])
                ),
                None,
            )
            if group:
                group[1].append((reviewer, f))
            else:
                groups.append((f, [(reviewer, f)]))
    merged = []
    for first, members in groups:
        reviewers = list(dict.fromkeys(r for r, _ in members))
        worst = min((f.severity for _, f in members), key=SEVERITIES.index)
        merged.append(
            Finding(
                **{**first.model_dump(), "severity": worst},
                reviewers=reviewers,
                agreement=f"{len(reviewers)} of {ran}",
            )
        )
    return sorted(
        merged, key=lambda f: (SEVERITIES.index(f.severity), -len(f.reviewers), f.file, f.line or 0)
    )


def _same(a: RawFinding, b: RawFinding) -> bool:
    if a.file != b.file:
        return False
    if (a.line is None) != (b.line is None):
        return False
    if a.line is not None and b.line is not None and abs(a.line - b.line) > NEARBY_LINES:
        return False
    return _overlap(a.title, b.title) >= SAME_ISSUE or _overlap(a.detail, b.detail) >= SAME_ISSUE


def _overlap(x: str, y: str) -> float:
    a, b = (
        set(re.findall(r"[a-z0-9_]{3,}", x.lower())),
        set(re.findall(r"[a-z0-9_]{3,}", y.lower())),
    )
    return len(a & b) / len(a | b) if a | b else 0.0
