"""The state store: one SQLite database under the data dir (stdlib `sqlite3`, WAL), shared by
every process that dispatches (the `mm` command, hooks' reviewers, council workers, jobs).

    calls     one row per attempt: time, provider, model requested / reported, status,
              duration, tokens (input, cached, output), cost estimate, run id, source, prompt
              hash; the prompt and answer only with `[history] keep_text = true`
    cooling   providers that reported a quota window, and until when routing skips them

Writers take a short `BEGIN IMMEDIATE` transaction with a busy timeout, so concurrent
writers queue instead of failing. A store that cannot be written never fails a dispatch: the
error is counted in `Store.errors` and the call goes on.
"""

from __future__ import annotations

import contextvars
import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from multi_model.migrations import migrate
from multi_model.paths import data_dir

BUSY_TIMEOUT_MS = 30_000

# the labels in force; the default is read-only, since every context shares it
_context: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar(
    "mm_store_context", default=MappingProxyType({})
)


@contextmanager
def context(**values: str) -> Iterator[None]:
    """Label the calls made inside: `run_id`, `source` (ask, council, review, edit review,
    job), `demo` ("1": the --demo panel's stand-ins)."""
    token = _context.set({**_context.get(), **{k: v for k, v in values.items() if v}})
    try:
        yield
    finally:
        _context.reset(token)


def current_context() -> dict[str, str]:
    return dict(_context.get())


def db_path(env: Mapping[str, str]) -> Path:
    return data_dir(env) / "state.db"


@dataclass
class CallRecord:
    t: float
    spec: str
    provider: str
    model_requested: str | None
    model_reported: str | None
    status: str
    error: str | None
    duration_s: float
    input_tokens: int | None
    cached_tokens: int | None
    output_tokens: int | None
    cost_usd: float | None
    cost_source: str | None
    attempt: int
    run_id: str | None
    source: str | None
    prompt_hash: str | None
    prompt: str | None = None
    answer: str | None = None
    demo: int = 0  # 1: a --demo stand-in answered, not a real model


COLUMNS = tuple(CallRecord.__dataclass_fields__)


def prompt_hash(prompt: str) -> str:
    return hashlib.sha256(prompt.encode("utf-8", "replace")).hexdigest()[:16]


class Store:
    """One connection per Store; the threads of a dispatch share it under a lock."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self.path = path
        self.errors = 0
        self._conn: sqlite3.Connection | None = None

    @classmethod
    def of(cls, env: Mapping[str, str]) -> Store:
        return cls(db_path(env))

    def connect(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not self.path.exists():  # private: it may keep prompts (keep_text)
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            conn = sqlite3.connect(
                self.path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            _use_wal(conn)
            conn.execute("PRAGMA synchronous = NORMAL")
            migrate(conn)  # the tables: migrations.py
            self._conn = conn
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self.connect()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def safely(self, fn: Any, *args: Any) -> Any:
        """Run a store operation; a broken or locked store costs a count, never the call."""
        try:
            return fn(*args)
        except (sqlite3.Error, OSError):
            self.errors += 1
            return None

    # --- calls -----------------------------------------------------------------------------

    def add_calls(self, records: Sequence[CallRecord]) -> None:
        if not records:
            return
        marks = ", ".join("?" for _ in COLUMNS)
        with self.write() as conn:
            conn.executemany(
                f"INSERT INTO calls ({', '.join(COLUMNS)}) VALUES ({marks})",
                [tuple(getattr(r, c) for c in COLUMNS) for r in records],
            )

    def calls(
        self, since: float = 0.0, provider: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        query = "SELECT * FROM calls WHERE t >= ?"
        params: list[Any] = [since]
        if provider:
            query += " AND provider = ?"
            params.append(provider)
        query += " ORDER BY t DESC, id DESC"
        if limit:
            query += f" LIMIT {int(limit)}"
        with self._lock:
            conn = self.connect()
            conn.row_factory = sqlite3.Row
            try:
                return [dict(row) for row in conn.execute(query, params)]
            finally:
                conn.row_factory = None

    def count_calls(self, provider: str, since: float) -> int:
        with self._lock:
            row = (
                self.connect()
                .execute(  # calls made: not skips, not missing binaries
                    "SELECT COUNT(*) FROM calls WHERE provider = ? AND t >= ? AND status != "
                    "'not_installed' AND (error IS NULL OR error NOT LIKE '%; not asked')",
                    (provider, since),
                )
                .fetchone()
            )
        return int(row[0])

    # --- cooling ---------------------------------------------------------------------------

    def cool(self, provider: str, until: float, reason: str) -> None:
        with self.write() as conn:
            conn.execute(
                "INSERT INTO cooling (provider, until, reason, t) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(provider) DO UPDATE SET until = excluded.until, "
                "reason = excluded.reason, t = excluded.t",
                (provider, until, reason, time.time()),
            )

    def cooling(self, now: float | None = None) -> dict[str, tuple[float, str]]:
        """provider -> (until, reason) for providers still cooling."""
        now = time.time() if now is None else now
        with self._lock:
            rows = (
                self.connect()
                .execute("SELECT provider, until, reason FROM cooling WHERE until > ?", (now,))
                .fetchall()
            )
        return {p: (u, r) for p, u, r in rows}

    def uncool(self, provider: str) -> None:
        with self.write() as conn:
            conn.execute("DELETE FROM cooling WHERE provider = ?", (provider,))


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch a new database to WAL. The switch takes an exclusive lock without calling the
    busy handler, so processes opening a new database at once would get "database is locked":
    retry within the busy timeout instead."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        try:
            conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
