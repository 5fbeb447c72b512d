"""The review engine: collect a change, ask reviewers for JSON findings, merge them."""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from multi_model import runner
from multi_model.config import Settings, data_dir
from multi_model.council import anonymize
from multi_model.models import Invocation, Response
from multi_model.prompts import render
from multi_model.review import privacy
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


@dataclass
class Change:
    """What goes to the reviewers: per-file text (diff or content), and what was held back."""

    parts: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    redactions: list[str] = field(default_factory=list)

    def add(self, path: str, text: str, deny: Sequence[str], used: int) -> int:
        glob = privacy.denied(path, deny)
        if glob:
            self.skipped.append(f"{path}: on the deny list ({glob})")
            return used
        size = len(text.encode("utf-8", "replace"))
        if size > privacy.MAX_FILE_BYTES or used + size > privacy.MAX_TOTAL_BYTES:
            self.skipped.append(f"{path}: too large ({size} bytes)")
            return used
        clean, found = privacy.redact(text)
        if found:
            self.redactions.append(f"{path}: {privacy.kinds(found)}")
        self.parts[path] = clean
        return used + size


def collect(targets: Sequence[str], cwd: Path, deny: Sequence[str] = ()) -> Change:
    """Named files (whole content), or with no targets the working tree's change: `git diff
    HEAD` per file plus untracked files in full."""
    change = Change()
    used = 0
    if targets:
        for target in targets:
            path = cwd / target
            used = _add_file(change, target, path, deny, used)
        return change
    diff = _git(["diff", "HEAD", "--no-color", "--no-ext-diff"], cwd)
    for path, text in _split_diff(diff).items():
        if re.search(r"(?m)^(Binary files .* differ|GIT binary patch)$", text):
            change.skipped.append(f"{path}: binary")
            continue
        used = change.add(path, text, deny, used)
    for name in _git(["ls-files", "--others", "--exclude-standard"], cwd).splitlines():
        used = _add_file(change, name, cwd / name, deny, used)
    return change


def _add_file(change: Change, name: str, path: Path, deny: Sequence[str], used: int) -> int:
    if privacy.denied(name, deny):
        return change.add(name, "", deny, used)  # recorded as denied, never read
    try:
        data = path.read_bytes()
    except OSError as exc:
        change.skipped.append(f"{name}: cannot read ({exc.strerror or exc})")
        return used
    if privacy.is_binary(data):
        change.skipped.append(f"{name}: binary")
        return used
    return change.add(name, data.decode("utf-8", "replace"), deny, used)


def _git(args: list[str], cwd: Path) -> str:
    out = runner.run(Invocation(argv=("git", *args), env=_git_env(), cwd=str(cwd)), timeout=30)
    if out.spawn_error or out.exit_code != 0:
        raise ReviewInputError(f"git {args[0]} failed in {cwd}: "
                               f"{out.spawn_error or out.stderr.strip()[:200]}"
                               " (name the files to review, or run inside a git repository)")
    return out.stdout


class ReviewInputError(Exception):
    """Nothing to review can be collected (not a repository, git missing)."""


def _git_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    return {k: os.environ[k] for k in keep if k in os.environ} | {"GIT_PAGER": "cat",
                                                                  "GIT_TERMINAL_PROMPT": "0"}


def _split_diff(diff: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for chunk in re.split(r"(?m)^(?=diff --git )", diff):
        match = re.match(r"diff --git a/(.+?) b/(.+)", chunk)
        if match:
            parts[match.group(2).strip()] = chunk.rstrip("\n")
    return parts


# --- prompt and parse -------------------------------------------------------------------------

EDITS_INTRO = (
    "The blocks below are edits an AI coding assistant has just made, in the order it made "
    "them: `@@ -old +new @@` hunks (line numbers of the file at that moment), or a new file's "
    "whole content.")
PROJECT_INTRO = ("The files as they are now are in the current directory; read them if you "
                 "need more context. Do not change any file.")


@contextmanager
def reviewer_cwd(project: str, read_project: bool) -> Iterator[str]:
    """Where reviewers run: an empty private folder, so a CLI agent cannot read what the deny
    list holds back (`.env`, keys) or the unredacted files; the project with `read_project`."""
    if read_project:
        yield project
        return
    with tempfile.TemporaryDirectory(prefix="mm-review-") as empty:
        yield empty


def review_prompt(change: Change, seed: int, intro: str = "") -> str:
    texts = list(change.parts.values())
    nonce = next(anonymize.nonce(seed + i) for i in range(1000)
                 if not any(anonymize.nonce(seed + i) in t for t in texts))
    blocks = "\n\n".join(f"<<<BEGIN {nonce} {path}>>>\n{text}\n<<<END {nonce} {path}>>>"
                         for path, text in change.parts.items())
    example = json.dumps({"findings": [{
        "file": "src/app.py", "line": 42, "severity": "high",
        "title": "Unchecked None from get_user()", "detail": "get_user returns None for an "
        "unknown id; line 42 dereferences it.", "suggestion": "Return 404 when it is None."}]},
        indent=2)
    return render("review", nonce=nonce, example=example,
                  change=f"{intro}\n\n{blocks}" if intro else blocks)


def findings_schema() -> dict:
    return {"$schema": DRAFT, **FindingsReply.model_json_schema()}


def parse_findings(text: str) -> tuple[list[RawFinding] | None, list[str]]:
    parsed = validate(text, findings_schema(), FindingsReply)
    return (parsed.value.findings if parsed.value else None), parsed.errors


# --- merge ------------------------------------------------------------------------------------

def merge(by_reviewer: Mapping[str, Sequence[RawFinding]], ran: int) -> list[Finding]:
    """One Finding per issue: same file, lines within NEARBY_LINES (or both unknown), and
    titles or details that share enough words, raised by different reviewers (two findings
    of one reviewer are two issues). Most severe first, then most agreed."""
    groups: list[tuple[RawFinding, list[tuple[str, RawFinding]]]] = []
    for reviewer, findings in by_reviewer.items():
        for f in findings:
            group = next((g for g in groups if _same(g[0], f)  # one reviewer: distinct issues
                          and all(r != reviewer for r, _ in g[1])), None)
            if group:
                group[1].append((reviewer, f))
            else:
                groups.append((f, [(reviewer, f)]))
    merged = []
    for first, members in groups:
        reviewers = list(dict.fromkeys(r for r, _ in members))
        worst = min((f.severity for _, f in members), key=SEVERITIES.index)
        merged.append(Finding(**{**first.model_dump(), "severity": worst},
                              reviewers=reviewers, agreement=f"{len(reviewers)} of {ran}"))
    return sorted(merged, key=lambda f: (SEVERITIES.index(f.severity), -len(f.reviewers),
                                         f.file, f.line or 0))


def _same(a: RawFinding, b: RawFinding) -> bool:
    if a.file != b.file:
        return False
    if (a.line is None) != (b.line is None):
        return False
    if a.line is not None and b.line is not None and abs(a.line - b.line) > NEARBY_LINES:
        return False
    return (_overlap(a.title, b.title) >= SAME_ISSUE
            or _overlap(a.detail, b.detail) >= SAME_ISSUE)


def _overlap(x: str, y: str) -> float:
    a, b = set(re.findall(r"[a-z0-9_]{3,}", x.lower())), set(re.findall(r"[a-z0-9_]{3,}",
                                                                         y.lower()))
    return len(a & b) / len(a | b) if a | b else 0.0


# --- the whole review -------------------------------------------------------------------------

DispatchFn = Callable[[str, list[str]], list[Response]]


def review(change: Change, models: Sequence[str], dispatch_fn: DispatchFn,
           seed: int = 0, audit: Path | None = None, intro: str = "",
           source: str = "mm review") -> ReviewResult:
    """Ask every reviewer in parallel; a reviewer that fails or answers garbage is a status."""
    if not change.parts:
        return ReviewResult(findings=[], reviewers=[], sent=[], skipped=change.skipped,
                            redactions=change.redactions)
    prompt = review_prompt(change, seed, intro)
    responses = dispatch_fn(prompt, list(models))
    statuses, found = [], {}
    for spec, r in zip(models, responses):
        status = ReviewerStatus(model=spec, status=r.status, error=r.error,
                                duration_s=r.duration_s, cli_version=r.cli_version)
        if r.ok:
            findings, errors = parse_findings(r.text)
            if findings is None:
                status = status.model_copy(update={"status": "bad_output",
                                                   "error": "; ".join(errors)[:300]})
            else:
                found[spec] = findings
                status = status.model_copy(update={"findings": len(findings)})
        statuses.append(status)
    if audit:
        _audit(audit, responses, list(change.parts), source)
    return ReviewResult(findings=merge(found, len(found)), reviewers=statuses,
                        sent=list(change.parts), skipped=change.skipped,
                        redactions=change.redactions)


def _audit(path: Path, responses: Sequence[Response], files: list[str], source: str) -> None:
    """Which provider saw which files, and when (one JSON line per reviewer asked)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        for r in responses:
            f.write(json.dumps({"t": time.time(), "model": r.model, "provider": r.provider,
                                "status": r.status, "files": files, "source": source}) + "\n")


def reviewers(explicit: str | None, settings: Settings, env: Mapping[str, str]) -> list[str]:
    """Who reviews: `explicit` (--models), else the plugin option, else `[review] reviewers`,
    else the first logged-in CLI. Raises ReviewInputError when there is none."""
    from multi_model.council.command import available_clis

    named = explicit or env.get("CLAUDE_PLUGIN_OPTION_REVIEWERS") or ",".join(
        settings.review.reviewers)
    if not named.strip():
        found = available_clis(settings, env)
        if not found:
            raise ReviewInputError("no reviewer: no logged-in CLI found (see `mm detect "
                                   "--check-auth`); name one with --models or [review] "
                                   "reviewers")
        named = found[0]
    return [m.strip() for m in named.split(",") if m.strip()]


def audit_path(env: Mapping[str, str]) -> Path:
    return data_dir(env) / "review-audit.jsonl"


def to_markdown(result: ReviewResult) -> str:
    """Markdown for the host: findings first, then one line per reviewer, then what was held
    back."""
    ran = ", ".join(f"{r.model} {r.status}" + (f" ({r.findings})" if r.status == "ok" else "")
                    for r in result.reviewers) or "none"
    lines = [f"## Review: {len(result.findings)} finding(s) (reviewers: {ran})", ""]
    for n, f in enumerate(result.findings, 1):
        where = f"{f.file}:{f.line}" if f.line else f.file
        lines.append(f"{n}. **{f.severity}** {where} — {f.title} "
                     f"({f.agreement}: {', '.join(f.reviewers)})")
        lines.append(f"   {f.detail}")
        if f.suggestion:
            lines.append(f"   Suggestion: {f.suggestion}")
    if not result.findings:
        lines.append("No findings." if result.sent else "Nothing to review.")
    for r in result.reviewers:
        if r.status != "ok":
            lines.append(f"- {r.model}: {r.status}" + (f" — {r.error.splitlines()[0][:200]}"
                                                       if r.error else ""))
    if result.skipped:
        lines += ["", "Not sent: " + "; ".join(result.skipped)]
    if result.redactions:
        lines += ["", "Redacted before sending: " + "; ".join(result.redactions)]
    return "\n".join(lines) + "\n"
