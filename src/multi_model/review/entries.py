"""Hook payloads turned into queue entries: the file edited, its hunks or new content, or why
it is held back (denied, binary, oversize). Stdlib only: the edit hook runs it on every edit."""

from __future__ import annotations

import os
import time

from multi_model.review import denylist, privacy

TYPE_CHECKING = False  # the hooks import this module: no `typing` at run time
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


def entry_from_payload(
    payload: Mapping[str, Any], project: str, deny: tuple[str, ...] = ()
) -> dict[str, Any] | None:
    """A queue entry for an Edit/Write/NotebookEdit hook payload: the file (relative to the
    project when inside it), the edited hunks or the new content. A file the deny list may
    hold back, by its name or its link target, or a link leaving the project, is stored as
    denied without content; an oversize or binary one is stored as skipped. Secrets are
    redacted when a batch is sent, not here: the queue is private (0600) and holds no more
    than Claude Code's own transcript, and compiling the patterns would double the hook's
    time."""
    tool = payload.get("tool_name")
    args = payload.get("tool_input") or {}
    resp = payload.get("tool_response") or {}
    if not isinstance(args, dict) or not isinstance(resp, dict):
        return None
    path = args.get("file_path") or args.get("notebook_path") or resp.get("filePath")
    if not isinstance(path, str) or not path:
        return None
    rel = relative(path, project)
    entry: dict[str, Any] = {
        "t": time.time(),
        "tool": tool,
        "file": rel,
        "tool_use_id": payload.get("tool_use_id"),
        "agent": payload.get("agent_type") or None,
    }
    name, target, leaves = denylist.resolve(path, project)
    why = denylist.quick_check(name, target, leaves, deny)
    if why:
        return {**entry, "kind": "denied", "note": why}
    if target:  # a link: the reviewer checks its target again with the full deny list
        entry["target"] = target
    kind, text = change_text(tool, args, resp)
    if text is None:
        return None
    size = len(text.encode("utf-8", "replace"))
    if "\x00" in text:
        return {**entry, "kind": "skipped", "note": "binary"}
    if size > privacy.MAX_FILE_BYTES - 1000:  # room for the reviewer's headers
        return {**entry, "kind": "skipped", "note": f"too large ({size} bytes)"}
    return {**entry, "kind": kind, "text": text}  # redacted by the reviewer before sending


def relative(path: str, project: str) -> str:
    try:
        rel = os.path.relpath(path, project)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def change_text(
    tool: Any, args: Mapping[str, Any], resp: Mapping[str, Any]
) -> tuple[str, str | None]:
    if tool == "NotebookEdit":
        cell = args.get("cell_id") or "new cell"
        source = args.get("new_source")
        mode = args.get("edit_mode") or "replace"
        return "cell", (
            f"notebook cell {cell} ({mode}):\n{source}" if isinstance(source, str) else None
        )
    patch = resp.get("structuredPatch")
    if isinstance(patch, list) and patch:
        return "hunks", hunks_text(patch)
    if tool == "Write":
        content = args.get("content", resp.get("content"))
        return "content", content if isinstance(content, str) else None
    old, new = args.get("old_string"), args.get("new_string")
    if isinstance(old, str) and isinstance(new, str):  # no patch in the response: the strings
        return "hunks", "\n".join(
            [*("-" + x for x in old.splitlines()), *("+" + x for x in new.splitlines())]
        )
    return "hunks", None


def hunks_text(patch: list[Any]) -> str:
    out = []
    for hunk in patch:
        if not isinstance(hunk, dict):
            continue
        out.append(
            f"@@ -{hunk.get('oldStart')},{hunk.get('oldLines')} "
            f"+{hunk.get('newStart')},{hunk.get('newLines')} @@"
        )
        out.extend(str(line) for line in hunk.get("lines") or [])
    return "\n".join(out)
