"""A `git diff` cut into files, each with its old and new path (renames and copies included,
C-quoted names unquoted)."""

from __future__ import annotations

import re


def split(diff: str) -> dict[tuple[str, str], str]:
    """Each file's chunk of a `git diff`, keyed by (old path, new path); a side that does not
    exist (an added or deleted file) is the other side's path."""
    parts: dict[tuple[str, str], str] = {}
    for chunk in re.split(r"(?m)^(?=diff --git )", diff):
        if chunk.startswith("diff --git "):
            parts[paths(chunk)] = chunk.rstrip("\n")
    return parts


_PATH_LINES = (
    ("old", "rename from "),
    ("old", "copy from "),
    ("old", "--- "),
    ("new", "rename to "),
    ("new", "copy to "),
    ("new", "+++ "),
)
_ESCAPES = {
    b"a": b"\a",
    b"b": b"\b",
    b"t": b"\t",
    b"n": b"\n",
    b"v": b"\v",
    b"f": b"\f",
    b"r": b"\r",
}


def paths(chunk: str) -> tuple[str, str]:
    """(old, new) path of one file's diff, from its rename/copy, ---/+++ or header lines;
    a side that does not exist (an added or deleted file) is the other side's path."""
    found: dict[str, str] = {}
    for line in chunk.splitlines()[1:]:
        if line.startswith("@@"):
            break
        for key, head in _PATH_LINES:
            if line.startswith(head) and key not in found:
                value = _unquote(line[len(head) :])
                if head in ("--- ", "+++ "):
                    value = "" if value == "/dev/null" else value[2:]  # a/ or b/
                if value:
                    found[key] = value
    if not found:  # a mode change or a binary file: `diff --git a/X b/X`
        found["old"] = _header_path(chunk.splitlines()[0][len("diff --git ") :])
    old = found.get("old") or found["new"]
    return old, found.get("new") or old


def _header_path(rest: str) -> str:
    quoted = re.match(r'"((?:[^"\\]|\\.)*)"', rest)
    if quoted:
        return _unquote(quoted.group(0))[2:]
    return rest[2 : 2 + (len(rest) - 5) // 2]  # "a/X b/X": both sides are the same path


def _unquote(value: str) -> str:
    """A path as git printed it: C-quoted when it holds a quote, backslash or control
    character; otherwise as is, without the tab git puts after a name with a space."""
    if not (value.startswith('"') and value.endswith('"') and len(value) > 1):
        return value.rstrip("\t")
    data = re.sub(
        rb"\\([0-7]{3}|.)",
        lambda m: bytes([int(m[1], 8)]) if len(m[1]) == 3 else _ESCAPES.get(m[1], m[1]),
        value[1:-1].encode("utf-8"),
    )
    return data.decode("utf-8", "replace")
