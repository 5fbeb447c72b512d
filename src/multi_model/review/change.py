"""What a review sends: the change (the working tree's diff against HEAD, or named files),
with deny-listed files held back, secrets redacted, binaries and oversize content skipped,
each with a note."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from multi_model import runner
from multi_model.errors import ReviewInputError
from multi_model.models import Invocation
from multi_model.review import gitdiff, privacy, redact
from multi_model.review.deny import DenyList, DenyPatternError, Verdict


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
DIFF_FLAGS = (
    "--no-color",
    "--no-ext-diff",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "-M",
    "-C",
    "--find-copies-harder",
)


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


def _add_file(
    change: Change,
    name: str,
    root: Path,
    rules: DenyList,
    used: int,
    shown: str | None = None,
    base: Path | None = None,
) -> int:
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
    out = runner.run(
        Invocation(argv=("git", "rev-parse", "--show-toplevel"), env=_git_env(), cwd=str(cwd)),
        timeout=30,
    )
    return Path(out.stdout.rstrip("\n")) if out.exit_code == 0 and out.stdout.strip() else None


def _git(args: list[str], cwd: Path) -> str:
    out = runner.run(
        Invocation(argv=("git", "-c", "core.quotePath=false", *args), env=_git_env(), cwd=str(cwd)),
        timeout=30,
    )
    if out.spawn_error or out.exit_code != 0:
        raise ReviewInputError(
            f"git {args[0]} failed in {cwd}: "
            f"{out.spawn_error or out.stderr.strip()[:200]}"
            " (name the files to review, or run inside a git repository)"
        )
    return out.stdout


def _git_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    return {k: os.environ[k] for k in keep if k in os.environ} | {
        "GIT_PAGER": "cat",
        "GIT_TERMINAL_PROMPT": "0",
    }
