"""The deny list's full check: gitignore patterns (pathspec, git's own rules), matched without
regard to case against a file's name in the repository and against its resolved target. The
defaults always apply; the user's patterns (`[review] deny`, `--deny`) only add to them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pathspec

from multi_model.review.denylist import DEFAULT_DENY, resolve


class DenyPatternError(ValueError):
    """A user pattern that is not a gitignore pattern."""


@dataclass(frozen=True)
class Verdict:
    """Why a path is never sent: the pattern and its list, or a link that leaves the
    repository; `via` is the path that matched (the name or its resolved target)."""

    reason: str
    pattern: str | None = None
    source: str | None = None  # "default list" | "your list"
    via: str | None = None

    def note(self) -> str:
        if self.pattern is None:
            return self.reason
        return f"on the deny list ({self.pattern}{', via its link target' if self.via else ''})"


class DenyList:
    def __init__(self, extra: Sequence[str] = ()) -> None:
        # pathspec drops blank lines from its indexes: keep only patterns, so index = position
        self.lists = [
            (source, [p for p in patterns if p.strip() and not p.startswith("#")])
            for source, patterns in (("default list", DEFAULT_DENY), ("your list", extra))
        ]
        try:
            self.specs = [
                pathspec.GitIgnoreSpec.from_lines([p.lower() for p in patterns])
                for _, patterns in self.lists
            ]
        except (ValueError, TypeError) as exc:  # pathspec's pattern errors are ValueErrors
            raise DenyPatternError(f"a deny pattern is not a gitignore pattern: {exc}") from None

    def match(self, rel: str) -> tuple[str, str] | None:
        """(pattern, list) of the pattern that denies the relative path `rel`, or None."""
        for (source, patterns), spec in zip(self.lists, self.specs, strict=True):
            found = spec.check_file(rel.lower())
            if found.include and found.index is not None:
                return patterns[found.index], source
        return None

    def verdict(self, path: str | Path, root: str | Path) -> Verdict | None:
        """Why `path` (relative to `root`, or absolute) must never be sent, or None. Links
        are resolved first; nothing is read."""
        name, target, leaves = resolve(str(path), str(root))
        if leaves:
            return Verdict("a link that leaves the repository (never read)", via=target)
        return self.by_names(name, target)

    def by_names(self, name: str, target: str | None = None) -> Verdict | None:
        """The answer for a name and its link target as recorded (nothing is resolved)."""
        for rel, via in ((name, None), (target, target)):
            found = self.match(rel.lstrip("/")) if rel else None
            if found:
                return Verdict("on the deny list", found[0], found[1], via)
        return None

    def explain(self, path: str, root: str | Path) -> str:
        """One paragraph for `mm review --explain-deny PATH`."""
        name, target, _ = resolve(path, str(root))
        checked = f"`{name}`" + (f" and its link target `{target}`" if target else "")
        found = self.verdict(path, root)
        if found is None:
            return f"{path}: not denied (checked {checked})\n"
        if found.pattern is None:
            return f"{path}: denied: {found.reason} -> /{found.via}\n"
        which = f"its link target `{found.via}`" if found.via else f"`{name}`"
        return (
            f"{path}: denied: {which} matches `{found.pattern}` ({found.source}; "
            f"checked {checked})\n"
        )
