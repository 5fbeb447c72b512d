"""The background reviewer of one Claude Code session (`mm review _watch SESSION_DIR --lock-fd N`,
started by the edit or Stop hook, which takes the session's lock and hands it over).

It batches the queued edits: in `edit` mode a batch is reviewed once no edit has arrived for
`quiet` seconds (or the oldest has waited `max_batch_wait`), so a burst of edits becomes a
few reviews; edits the Stop hook asked for (`flush`) go at once. Each batch goes through the
review engine: deny list, size limits and redaction again, the reviewers in parallel through
the dispatch engine (read-only), schema-checked findings merged across reviewers. The record
lands in reviews.jsonl before the cursor moves, so the Stop hook's wait ends only when the
findings are there. It exits after `idle_exit` seconds without work (at once in `stop` mode
or once the session has ended), and never sends anything once the mode is `off`.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from multi_model import store
from multi_model.config import ReviewSettings, Settings, load_settings
from multi_model.errors import MultiModelError
from multi_model.fanout import dispatch
from multi_model.models import Response
from multi_model.review import engine, privacy
from multi_model.review.change import Change
from multi_model.review.deny import DenyList, DenyPatternError, Verdict
from multi_model.review.session import Session, resolve_mode, user_review_settings

POLL_S = 0.25


class Watch:
    def __init__(self, session: Session, lock_fd: int, env: Mapping[str, str]) -> None:
        self.session, self.lock_fd, self.env = session, lock_fd, dict(env)
        self.project = str(session.meta.get("project") or os.getcwd())
        self.settings: Settings = load_settings(self.project, self.env).settings
        self.rs: ReviewSettings = self.settings.review
        self.models: list[str] | None = None
        user_review_settings(self.env)  # fills the hooks' settings cache (3.10: no tomllib)
        self.last_work = time.monotonic()

    def run(self) -> int:
        while True:
            mode, _ = resolve_mode(self.env, self.project)
            if mode == "off":
                self._drop("review was turned off")
                return 0
            work = self._work(mode)
            batch = self._due(mode, work)
            if batch:
                self._review(*batch)
                self.last_work = time.monotonic()
                continue
            idle = not work and self._idle_long_enough(mode)
            if idle and not self._release_or_continue(mode):
                return 0
            time.sleep(POLL_S)

    # --- what to do next ----------------------------------------------------------------------

    def _work(self, mode: str) -> list[tuple[dict[str, Any], int]]:
        """The complete queued edits this mode reviews now or soon (a torn tail is not one):
        in `edit` mode all of them, in `stop` mode only once the Stop hook asked."""
        cursor = self.session.cursor()
        if self.session.queue_size() <= cursor or (
            mode != "edit" and self.session.flush_target() <= cursor
        ):
            return []
        return self.session.edits(cursor)

    def _due(
        self, mode: str, edits: list[tuple[dict[str, Any], int]]
    ) -> tuple[list[dict[str, Any]], int, int] | None:
        """(edits, start, end) of the batch to review now, or None (nothing, or still quiet)."""
        if not edits:
            return None
        cursor, flush = self.session.cursor(), self.session.flush_target()
        if flush <= cursor and mode == "edit":
            now = time.time()
            times = [float(e.get("t") or 0) for e, _ in edits]
            if now - max(times) < self.rs.quiet and now - min(times) < self.rs.max_batch_wait:
                return None
        return _fit(edits, cursor)

    def _idle_long_enough(self, mode: str) -> bool:
        limit = self.rs.idle_exit if mode == "edit" and not self.session.ended else 0.0
        return time.monotonic() - self.last_work >= limit

    def _release_or_continue(self, mode: str) -> bool:
        """Give up the lock, then look once more: an edit recorded while we held it found the
        lock taken and started no one, so it is ours. False: exit."""
        fcntl.flock(self.lock_fd, fcntl.LOCK_UN)
        if not self._work(mode):
            return False
        try:
            fcntl.flock(self.lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # a hook started the next reviewer meanwhile
        return True

    # --- the review ---------------------------------------------------------------------------

    def _dispatch(self, specs: list[str], prompt: str, where: str) -> list[Response]:
        with store.context(run_id=self.session.dir.name, source="edit review"):
            return dispatch(
                specs,
                prompt,
                timeout=self.rs.timeout,
                settings=self.settings,
                env=self.env,
                cwd=where,
                for_hooks=True,
            )

    def _review(self, edits: list[dict[str, Any]], start: int, end: int) -> None:
        started = time.time()
        try:
            change = build_change(edits, self.rs.deny, self.project)
        except DenyPatternError as exc:  # fail closed: nothing of the batch is sent
            change = Change(skipped=[f"{len(edits)} edit(s) not sent: {exc}"])
        record: dict[str, Any] = {
            "id": start,
            "started": started,
            "edits": len(edits),
            "offsets": [start, end],
        }  # id: unique, the batch's offset
        intro = engine.EDITS_INTRO + (f" {engine.PROJECT_INTRO}" if self.rs.read_project else "")
        try:
            if self.models is None:
                self.models = engine.reviewers(None, self.settings, self.env)
            with engine.reviewer_cwd(self.project, self.rs.read_project) as where:
                result = engine.review(
                    change,
                    self.models,
                    lambda prompt, specs: self._dispatch(specs, prompt, where),
                    audit=engine.audit_path(self.env),
                    intro=intro,
                    source=f"edit review, session {self.session.dir.name}",
                )
            record.update(result.model_dump(mode="json"))
        except MultiModelError as exc:  # ReviewInputError included
            record.update(
                findings=[], reviewers=[], sent=[], skipped=change.skipped, error=str(exc)
            )
        except Exception as exc:  # noqa: BLE001 - one bad batch must not stall the session
            record.update(
                findings=[],
                reviewers=[],
                sent=[],
                skipped=change.skipped,
                error=f"review failed: {exc!r}",
            )
        record["t"] = time.time()
        self.session.add_review(record)
        self.session.set_cursor(end)
        _log(
            f"review {record['id']}: {len(edits)} edit(s), {len(record['findings'])} "
            f"finding(s), reviewers: "
            + ", ".join(f"{r['model']} {r['status']}" for r in record["reviewers"])
        )

    def _drop(self, why: str) -> None:
        size = self.session.queue_size()
        if size > self.session.cursor():
            _log(f"{why}: {size - self.session.cursor()} bytes of edits not sent")
            self.session.set_cursor(size)


def _fit(
    edits: list[tuple[dict[str, Any], int]], start: int
) -> tuple[list[dict[str, Any]], int, int]:
    """The longest prefix of `edits` (at least one) whose text fits one review; its end."""
    taken: list[dict[str, Any]] = []
    used, end = 0, start
    for entry, offset in edits:
        size = len(str(entry.get("text", "")).encode("utf-8", "replace"))
        if taken and used + size > privacy.MAX_TOTAL_BYTES:
            break
        taken.append(entry)
        used, end = used + size, offset
    return taken, start, end


def build_change(
    edits: list[dict[str, Any]], deny: list[str], project: str | None = None
) -> Change:
    """One part per file: its edits in order (hunks, or whole new content, which replaces
    what came before it). The full deny list is checked again (the hook's check is a quick
    one) against each file's name, the link target the hook saw, and, with `project`, the
    target now. When a file's part would be over the size limit, its earliest edits are left
    out, with a note."""
    change, rules = Change(), DenyList(deny)
    by_file: dict[str, list[str]] = {}
    for e in edits:
        name = str(e.get("file"))
        if e.get("kind") in ("denied", "skipped"):
            change.skipped.append(f"{name}: {e.get('note')}")
            if e.get("kind") == "denied":
                by_file.pop(name, None)
            continue
        if change.denied(name, _verdict(rules, name, e.get("target"), project)):
            by_file.pop(name, None)
            continue
        if e.get("kind") == "content":
            by_file[name] = [f"new content (whole file):\n{e.get('text', '')}"]
        else:
            by_file.setdefault(name, []).append(f"{e.get('tool')}:\n{e.get('text', '')}")
    used = 0
    for name, parts in by_file.items():
        kept = _latest_that_fit(parts)
        if len(kept) < len(parts):
            change.skipped.append(
                f"{name}: its {len(parts) - len(kept)} earliest edit(s) in "
                "this batch (too large together)"
            )
        if kept:
            used = change.add(name, "\n\n".join(kept), used)
    return change


def _verdict(rules: DenyList, name: str, target: Any, project: str | None) -> Verdict | None:
    """The full check of one edited file: its name and the link target the hook recorded,
    and, with `project`, where the name points now."""
    found = rules.verdict(name, project) if project else None
    return found or rules.by_names(name, str(target) if target else None)


def _latest_that_fit(parts: list[str]) -> list[str]:
    kept: list[str] = []
    size = 0
    for part in reversed(parts):
        size += len(part.encode("utf-8", "replace")) + 2
        if size > privacy.MAX_FILE_BYTES:
            break
        kept.insert(0, part)
    return kept


KEEP_DAYS = 14


def prune(sessions: Path, keep: Path) -> None:
    """Remove the state of sessions untouched for KEEP_DAYS (their queues hold code)."""
    cutoff = time.time() - KEEP_DAYS * 86400
    for folder in sessions.iterdir():
        try:
            if folder == keep or not folder.is_dir():
                continue
            touched = max(p.stat().st_mtime for p in (folder, *folder.glob("*.jsonl")))
            if touched < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def _log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


def main(session_dir: Path, lock_fd: int) -> int:
    session = Session(session_dir)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # ours already; checks the fd
    except OSError as exc:
        _log(f"not started: the session lock is not held ({exc})")
        return 1
    try:
        watch = Watch(session, lock_fd, os.environ)
    except MultiModelError as exc:
        _log(f"not started: {exc}")
        return 2
    _log(f"reviewer started, pid {os.getpid()}")
    prune(session.dir.parent, keep=session.dir)
    code = watch.run()
    _log("reviewer exits: nothing left to review")
    return code


if __name__ == "__main__":  # pragma: no cover - started as `mm review _watch`
    sys.exit(main(Path(sys.argv[1]), int(sys.argv[2])))
