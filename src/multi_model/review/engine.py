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
from multi_model.review import gitdiff, privacy, redact
from multi_model.review.deny import DenyList, DenyPatternError, Verdict
from multi_model.routing import split_specs
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
    """What goes to the reviewers: per-file text (diff or content), and what was held back.
    Callers ask the deny list first (`deny.DenyList.verdict`): `add` only sizes and redacts."""

    parts: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    redactions: list[str] = field(default_factory=list)

    def add(self, path: str, text: str, used: int) -> int:
        size = len(text.encode("utf-8", "replace"))
        if size > privacy.MAX_FILE_BYTES or used + size > privacy.MAX_TOTAL_BYTES:
            self.skipped.append(f"{path}: too large ({size} bytes)")
            return used
        clean, found = redact.redact(text, path)  # every byte: headers and context too
        if found:
            self.redactions.append(f"{path}: {privacy.kinds(found)}")
        self.parts[path] = clean
        return used + size

    def denied(self, path: str, verdict: Verdict | None) -> bool:
        """Whether `verdict` holds `path` back (noted once)."""
        note = verdict and f"{path}: {verdict.note()}"
        if note and note not in self.skipped:
            self.skipped.append(note)
        return verdict is not None


def collect(targets: Sequence[str], cwd: Path, deny: Sequence[str] = ()) -> Change:
    """Named files (whole content), or with no targets the working tree's change: `git diff
    HEAD` per file plus untracked files in full. Nothing the deny list holds back is read, and
    a diff whose old or new path is denied (a rename or copy of `.env`) is left out whole."""
    try:
        rules = DenyList(deny)
    except DenyPatternError as exc:
        raise ReviewInputError(str(exc)) from None
    if targets:
        return _collect_files(targets, cwd, rules)
    change, used = Change(), 0
    root = repository_root(cwd)
    diff = _git(["diff", "HEAD", *DIFF_FLAGS], root)  # at the top: diff.relative is moot
    for (old, new), text in gitdiff.split(diff).items():
        if change.denied(new, _diff_verdict(rules, old, new, root)):
            continue
        if re.search(r"(?m)^(Binary files .* differ|GIT binary patch)$", text):
            change.skipped.append(f"{new}: binary")
            continue
        used = change.add(new, text, used)
    untracked = _git(["ls-files", "--others", "--exclude-standard", "--full-name", "-z"], cwd)
    for name in filter(None, untracked.split("\0")):
        used = _add_file(change, name, root, rules, used)
    return change


# Renames and copies (from any file, changed or not) show as such, so a denied file's lines
# never arrive under a new name; fixed prefixes and no external diff, whatever the config says.
DIFF_FLAGS = ("--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/", "-M", "-C",
              "--find-copies-harder")


def _diff_verdict(rules: DenyList, old: str, new: str, root: Path) -> Verdict | None:
    """The deny list's answer for a diff: its new path, or the path it was renamed or copied
    from (its lines would be sent as context under the new name)."""
    found = rules.verdict(new, root)
    if found is None and old != new:
        source = rules.verdict(old, root)
        if source is not None:
            found = Verdict(f"renamed or copied from {old}, {source.note()}")
    return found


def _collect_files(targets: Sequence[str], cwd: Path, rules: DenyList) -> Change:
    change, used = Change(), 0
    root = repository_root(cwd)
    for target in targets:
        used = _add_file(change, target, root, rules, used, shown=target, base=cwd)
    return change


def _add_file(change: Change, name: str, root: Path, rules: DenyList, used: int,
              shown: str | None = None, base: Path | None = None) -> int:
    """Add file `name` (relative to `base`, default `root`) unless the deny list holds it
    back by its name or its resolved target; what is read is the resolved file."""
    shown = shown or name
    path = (base or root) / name
    if change.denied(shown, rules.verdict(path, root)):
        return used
    try:
        data = path.resolve().read_bytes()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop
        change.skipped.append(f"{shown}: cannot read ({getattr(exc, 'strerror', None) or exc})")
        return used
    if privacy.is_binary(data):
        change.skipped.append(f"{shown}: binary")
        return used
    return change.add(shown, data.decode("utf-8", "replace"), used)


def repository_root(cwd: Path) -> Path:
    """Where deny-list paths are relative to: the git work tree's top, else `cwd`."""
    return _toplevel(cwd) or cwd


def _toplevel(cwd: Path) -> Path | None:
    out = runner.run(Invocation(argv=("git", "rev-parse", "--show-toplevel"), env=_git_env(),
                                cwd=str(cwd)), timeout=30)
    return Path(out.stdout.rstrip("\n")) if out.exit_code == 0 and out.stdout.strip() else None


def _git(args: list[str], cwd: Path) -> str:
    out = runner.run(Invocation(argv=("git", "-c", "core.quotePath=false", *args),
                                env=_git_env(), cwd=str(cwd)), timeout=30)
    if out.spawn_error or out.exit_code != 0:
        raise ReviewInputError(f"git {args[0]} failed in {cwd}: "
                               f"{out.spawn_error or out.stderr.strip()[:200]}"
                               " (name the files to review, or run inside a git repository)")
    return out.stdout


class ReviewInputError(Exception):
    """Nothing to review can be collected (not a repository, git missing, a bad pattern)."""


def _git_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    return {k: os.environ[k] for k in keep if k in os.environ} | {"GIT_PAGER": "cat",
                                                                  "GIT_TERMINAL_PROMPT": "0"}


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


def review_prompt(change: Change, intro: str = "", nonce: str | None = None) -> str:
    """The reviewers' prompt: every part in a block framed by `nonce` (default: a fresh one
    from `secrets` that no part or path contains, so no file can close its block)."""
    nonce = nonce or anonymize.fresh_nonce([intro, *change.parts, *change.parts.values()])
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
           audit: Path | None = None, intro: str = "",
           source: str = "mm review") -> ReviewResult:
    """Ask every reviewer in parallel; a reviewer that fails or answers garbage is a status."""
    if not change.parts:
        return ReviewResult(findings=[], reviewers=[], sent=[], skipped=change.skipped,
                            redactions=change.redactions)
    prompt = review_prompt(change, intro)
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
    return split_specs(named, "--models")


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
