"""Human-readable views for the terminal. The only module that formats for people."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from multi_model.routing import DEFAULT_ROUTES

if TYPE_CHECKING:
    from multi_model.catalog import Listing
    from multi_model.detect import CliInfo
    from multi_model.models import Response
    from multi_model.sessions import Conversation


class Progress:
    """One stderr line per model as it finishes (used only when stderr is a terminal)."""

    def __init__(self, specs: Sequence[str], stream: TextIO) -> None:
        self.total, self.done, self.stream = len(specs), 0, stream
        self._lock = threading.Lock()

    def update(self, index: int, response: Response) -> None:
        with self._lock:
            self.done += 1
            self.stream.write(
                f"[{self.done}/{self.total}] {response.model}: {response.status} "
                f"({response.duration_s:.1f}s)\n"
            )
            self.stream.flush()


class Heartbeat:
    """While calls run, on a terminal: every `every` seconds one line on `stream` with the
    stage, the seconds since it began and the seats still pending. Silent on a pipe or file."""

    def __init__(self, stream: TextIO, every: float = 10.0) -> None:
        self.stream, self.every = stream, every
        self.label, self.pending, self.began = "", list[str](), time.monotonic()
        self._lock, self._stop = threading.Lock(), threading.Event()
        self._thread: threading.Thread | None = None
        if _isatty(stream):
            self._thread = threading.Thread(target=self._beat, daemon=True)
            self._thread.start()

    def stage(self, label: str) -> None:
        with self._lock:
            self.label, self.pending, self.began = label, [], time.monotonic()

    def add(self, seats: Sequence[str]) -> None:
        with self._lock:
            self.pending.extend(seats)

    def done(self, seat: str) -> None:
        with self._lock:
            if seat in self.pending:
                self.pending.remove(seat)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self.every):
            with self._lock:
                if not self.pending:
                    continue
                waited = time.monotonic() - self.began
                line = f"  ... {self.label}: {waited:.0f}s, waiting for {', '.join(self.pending)}"
                self.stream.write(line + "\n")
                self.stream.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a file
        return False


def routing_summary(responses: Sequence[Response], note: str = "") -> str:
    """One line per response: spec -> provider (route): status, under `note` when given."""
    lines = [note] if note else []
    for r in responses:
        lines.append(
            f"{r.model} -> {r.provider} ({r.metadata.get('route', '')}): {r.status}"
            + (f" - {r.error.splitlines()[0]}" if r.error else "")
        )
    return "\n".join(lines) + "\n"


def detect_table(infos: Sequence[CliInfo], check_auth: bool) -> str:
    rows = []
    for i in infos:
        if not i.installed:
            where = "not installed" + (f" ({i.error})" if i.error else "")
            rows.append(
                (i.name, "-", where, f"to install: {i.install_hint}" if i.install_hint else "")
            )
            continue
        login = ""
        if check_auth and i.auth:
            login = {
                "logged_in": "logged in",
                "logged_out": "NOT logged in",
                "unknown": "login unknown",
            }[i.auth]
            if i.auth == "logged_out" and i.login_hint:
                login += f" (to log in: {i.login_hint})"
            elif i.auth_detail:
                login += f" ({i.auth_detail})"
        note = login or (i.error or "")
        if i.cooling_until:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(i.cooling_until))
            note = f"{note}; " if note else ""
            note += f"COOLING until {when}: {i.cooling_reason} (routing skips it)"
        rows.append((i.name, i.version or "?", i.path or "", note))
    return _table(rows)


def jobs_table(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return "No jobs.\n"
    table = [("id", "kind", "status", "started", "took", "summary")]
    for r in rows:
        took = f"{r['finished'] - r['created']:.1f}s" if r.get("finished") else "-"
        table.append(
            (
                r["id"],
                r["kind"],
                r["status"],
                time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["created"])),
                took,
                r.get("summary") or r.get("error") or "",
            )
        )
    return _table(table)


def sessions_table(rows: Sequence[Conversation]) -> str:
    """`mm sessions`: one line per conversation."""
    if not rows:
        return "No sessions. Start one with `mm ask --models M --session NAME`.\n"
    table = [("session", "model", "provider", "turns", "last used", "session id", "folder")]
    for c in rows:
        table.append(
            (
                c.name,
                c.spec,
                c.provider,
                str(c.turns),
                time.strftime("%Y-%m-%d %H:%M", time.localtime(c.updated)),
                c.native_id,
                c.cwd,
            )
        )
    return _table(table)


def config_view(rows: Sequence[tuple[str, object, str]]) -> str:
    lines = [f"{key} = {value!r}    # {source}" for key, value, source in rows]
    lines.append("# built-in routes (after any `routes` above):")
    lines += [f"#   /{r.match}/ -> {', '.join(r.providers)}" for r in DEFAULT_ROUTES]
    return "\n".join(lines) + "\n"


def models_view(listings: Sequence[Listing]) -> str:
    out = []
    for listing in listings:
        origin = "live" if listing.live else "built-in catalog"
        note = f"; {listing.note}" if listing.note else ""
        out.append(f"{listing.provider} ({origin}{note}):")
        out += [f"  {m}" for m in listing.models] or ["  (none)"]
    return "\n".join(out) + "\n"


def _table(rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))] if rows else []
    return "".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip() + "\n"
        for row in rows
    )


def answers_view(responses: Sequence[Response], markdown: bool = False) -> str:
    """`mm ask` for people: each answer under a header, then one status line per seat."""
    out = []
    for r in responses:
        if r.status != "ok":
            continue
        head = f"{r.model} ({r.provider}, {r.duration_s:.1f}s)"
        out.append(f"## {head}\n\n" if markdown else f"=== {head} ===\n")
        out.append(r.text if r.text.endswith("\n") else r.text + "\n")
        out.append("\n")
    out.append("## Status\n\n" if markdown else "--- status ---\n")
    for r in responses:
        why = f": {r.error.splitlines()[0]}" if r.error and r.status != "ok" else ""
        line = f"{r.model}: {r.status} via {r.provider} in {r.duration_s:.1f}s{why}"
        out.append(f"- {line}\n" if markdown else f"{line}\n")
    return "".join(out)
