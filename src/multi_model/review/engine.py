"""The review engine: ask reviewers about a collected change (change.py) for JSON findings,
merge them (merge.py), and show the result."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from multi_model.config import Settings
from multi_model.council import anonymize
from multi_model.errors import ReviewInputError as ReviewInputError  # re-exported for callers
from multi_model.models import Response
from multi_model.paths import data_dir
from multi_model.prompts import render
from multi_model.review.change import Change
from multi_model.review.merge import Finding, merge, parse_findings
from multi_model.routing import split_specs


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReviewerStatus(_Model):
    model: str
    status: str
    error: str | None = None
    findings: int = 0
    duration_s: float = 0.0
    cli_version: str | None = None


class ReviewResult(_Model):
    findings: list[Finding] = Field(description="Merged, most severe first.")
    reviewers: list[ReviewerStatus]
    sent: list[str] = Field(description="Files whose content or diff was sent.")
    skipped: list[str] = Field(description="'path: reason' for what was not sent.")
    redactions: list[str] = Field(default_factory=list, description="'path: kinds'.")


# --- prompt -----------------------------------------------------------------------------------

EDITS_INTRO = (
    "The blocks below are edits an AI coding assistant has just made, in the order it made "
    "them: `@@ -old +new @@` hunks (line numbers of the file at that moment), or a new file's "
    "whole content."
)
PROJECT_INTRO = (
    "The files as they are now are in the current directory; read them if you "
    "need more context. Do not change any file."
)


@contextmanager
def reviewer_cwd(project: str, read_project: bool) -> Iterator[str]:
    """Where reviewers run: an empty private folder, so a CLI agent cannot read what the deny
    list holds back (`.env`, keys) or the unredacted files; the project with `read_project`."""
    if read_project:
        yield project
        return
    with tempfile.TemporaryDirectory(prefix="mm-review-") as empty:
        yield empty


def review_prompt(change: Change, intro: str = "", nonce: str | None = None) -> str:
    """The reviewers' prompt: every part in a block framed by `nonce` (default: a fresh one
    from `secrets` that no part or path contains, so no file can close its block)."""
    nonce = nonce or anonymize.fresh_nonce([intro, *change.parts, *change.parts.values()])
    blocks = "\n\n".join(
        f"<<<BEGIN {nonce} {path}>>>\n{text}\n<<<END {nonce} {path}>>>"
        for path, text in change.parts.items()
    )
    example = json.dumps(
        {
            "findings": [
                {
                    "file": "src/app.py",
                    "line": 42,
                    "severity": "high",
                    "title": "Unchecked None from get_user()",
                    "detail": "get_user returns None for an unknown id; line 42 dereferences it.",
                    "suggestion": "Return 404 when it is None.",
                }
            ]
        },
        indent=2,
    )
    return render(
        "review", nonce=nonce, example=example, change=f"{intro}\n\n{blocks}" if intro else blocks
    )


# --- the whole review -------------------------------------------------------------------------

DispatchFn = Callable[[str, list[str]], list[Response]]


def review(
    change: Change,
    models: Sequence[str],
    dispatch_fn: DispatchFn,
    audit: Path | None = None,
    intro: str = "",
    source: str = "mm review",
) -> ReviewResult:
    """Ask every reviewer in parallel; a reviewer that fails or answers garbage is a status."""
    if not change.parts:
        return ReviewResult(
            findings=[], reviewers=[], sent=[], skipped=change.skipped, redactions=change.redactions
        )
    prompt = review_prompt(change, intro)
    responses = dispatch_fn(prompt, list(models))
    statuses, found = [], {}
    for spec, r in zip(models, responses, strict=True):
        status = ReviewerStatus(
            model=spec,
            status=r.status,
            error=r.error,
            duration_s=r.duration_s,
            cli_version=r.cli_version,
        )
        if r.ok:
            findings, errors = parse_findings(r.text)
            if findings is None:
                status = status.model_copy(
                    update={"status": "bad_output", "error": "; ".join(errors)[:300]}
                )
            else:
                found[spec] = findings
                status = status.model_copy(update={"findings": len(findings)})
        statuses.append(status)
    if audit:
        _audit(audit, responses, list(change.parts), source)
    return ReviewResult(
        findings=merge(found, len(found)),
        reviewers=statuses,
        sent=list(change.parts),
        skipped=change.skipped,
        redactions=change.redactions,
    )


def _audit(path: Path, responses: Sequence[Response], files: list[str], source: str) -> None:
    """Which provider saw which files, and when (one JSON line per reviewer asked)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        for r in responses:
            f.write(
                json.dumps(
                    {
                        "t": time.time(),
                        "model": r.model,
                        "provider": r.provider,
                        "status": r.status,
                        "files": files,
                        "source": source,
                    }
                )
                + "\n"
            )


def reviewers(explicit: str | None, settings: Settings, env: Mapping[str, str]) -> list[str]:
    """Who reviews: `explicit` (--models), else the plugin option, else `[review] reviewers`,
    else the first logged-in CLI. Raises ReviewInputError when there is none."""
    # lazy for start-up: the council command stack is needed only when no reviewer is named
    from multi_model.council.command import available_clis  # noqa: PLC0415 - see above

    named = (
        explicit or env.get("CLAUDE_PLUGIN_OPTION_REVIEWERS") or ",".join(settings.review.reviewers)
    )
    if not named.strip():
        found = available_clis(settings, env)
        if not found:
            raise ReviewInputError(
                "no reviewer: no logged-in CLI found (see `mm detect "
                "--check-auth`); name one with --models or [review] "
                "reviewers"
            )
        named = found[0]
    return split_specs(named, "--models")


def audit_path(env: Mapping[str, str]) -> Path:
    return data_dir(env) / "review-audit.jsonl"


def to_markdown(result: ReviewResult) -> str:
    """Markdown for the host: findings first, then one line per reviewer, then what was held
    back."""
    ran = (
        ", ".join(
            f"{r.model} {r.status}" + (f" ({r.findings})" if r.status == "ok" else "")
            for r in result.reviewers
        )
        or "none"
    )
    lines = [f"## Review: {len(result.findings)} finding(s) (reviewers: {ran})", ""]
    for n, f in enumerate(result.findings, 1):
        where = f"{f.file}:{f.line}" if f.line else f.file
        lines.append(
            f"{n}. **{f.severity}** {where} — {f.title} ({f.agreement}: {', '.join(f.reviewers)})"
        )
        lines.append(f"   {f.detail}")
        if f.suggestion:
            lines.append(f"   Suggestion: {f.suggestion}")
    if not result.findings:
        lines.append("No findings." if result.sent else "Nothing to review.")
    for r in result.reviewers:
        if r.status != "ok":
            lines.append(
                f"- {r.model}: {r.status}"
                + (f" — {r.error.splitlines()[0][:200]}" if r.error else "")
            )
    if result.skipped:
        lines += ["", "Not sent: " + "; ".join(result.skipped)]
    if result.redactions:
        lines += ["", "Redacted before sending: " + "; ".join(result.redactions)]
    return "\n".join(lines) + "\n"
