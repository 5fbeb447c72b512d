"""Named conversations: `--session NAME` continues a conversation with the same provider
through the CLI's own resume (codex `exec resume ID`, claude/gemini/qwen `--resume ID`,
opencode `--session ID`, copilot `--resume=ID`, cursor-agent and vibe `--resume ID`).

The state store's `sessions` table maps (name, spec) to the provider that holds the
conversation, the model asked, the CLI's session id and the folder it ran in (claude, gemini
and codex file their sessions by folder, so later turns run there too). One name may hold one
conversation per spec: `mm ask codex,gemini --session design` keeps two.

A turn of a session never fails over (the conversation lives with one provider) and a spec
whose provider cannot resume (agy, grok, model servers) is refused before anything runs.
"""

from __future__ import annotations

import builtins
import os
import re
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from multi_model import providers
from multi_model.config import Settings, load_settings
from multi_model.errors import UsageError
from multi_model.models import Response
from multi_model.routing import Route, chain_of, route_all
from multi_model.store import Store

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
LOST = ("crashed", "bad_output", "empty_output")
"""Statuses of a resumed turn that may mean the CLI no longer has the conversation."""


@dataclass(frozen=True)
class Conversation:
    name: str
    spec: str
    provider: str
    model: str | None
    native_id: str
    cwd: str
    turns: int
    created: float
    updated: float


COLUMNS = tuple(Conversation.__dataclass_fields__)


def check_name(name: str) -> str:
    if not NAME_RE.fullmatch(name):
        raise UsageError(
            f"bad session name {name!r}: use 1-64 letters, digits, '.', '_' or "
            "'-', starting with a letter or digit"
        )
    return name


class Sessions:
    def __init__(self, store: Store) -> None:
        """Raises UsageError when the state store cannot be opened (a session cannot go on
        without it, unlike the history, which a dispatch does without)."""
        self.store = store
        try:
            self.store.connect()  # its tables: migrations.py
        except (sqlite3.Error, OSError) as exc:
            raise UsageError(f"sessions need the state store {store.path}: {exc}") from None

    def get(self, name: str, spec: str) -> Conversation | None:
        rows = self._select("WHERE name = ? AND spec = ?", (name, spec))
        return rows[0] if rows else None

    def list(self, name: str | None = None) -> builtins.list[Conversation]:
        if name:
            return self._select("WHERE name = ? ORDER BY spec", (name,))
        return self._select("ORDER BY updated DESC", ())

    def _select(self, tail: str, params: tuple[str, ...]) -> builtins.list[Conversation]:
        conn = self.store.connect()
        return [
            Conversation(*row)
            for row in conn.execute(f"SELECT {', '.join(COLUMNS)} FROM sessions {tail}", params)
        ]

    def save(self, conv: Conversation, prev: Conversation | None) -> bool:
        """Record a turn, only over the state it started from: False when another turn or a
        `forget` changed the conversation meanwhile (this turn is then not recorded)."""
        with self.store.write() as conn:
            if prev is None:
                marks = ", ".join("?" for _ in COLUMNS)
                return (
                    conn.execute(
                        f"INSERT OR IGNORE INTO sessions ({', '.join(COLUMNS)}) VALUES ({marks})",
                        tuple(getattr(conv, c) for c in COLUMNS),
                    ).rowcount
                    == 1
                )
            return (
                conn.execute(
                    "UPDATE sessions SET native_id = ?, turns = ?, updated = ? WHERE name = ? AND "
                    "spec = ? AND native_id = ? AND turns = ?",
                    (
                        conv.native_id,
                        conv.turns,
                        conv.updated,
                        conv.name,
                        conv.spec,
                        prev.native_id,
                        prev.turns,
                    ),
                ).rowcount
                == 1
            )

    def forget(self, name: str) -> int:
        with self.store.write() as conn:
            return conn.execute("DELETE FROM sessions WHERE name = ?", (name,)).rowcount


@dataclass
class Turn:
    """One spec's part in a session turn: where it runs and what it continues."""

    sessions: Sessions
    name: str
    spec: str
    cwd: str
    previous: Conversation | None

    def finish(self, resp: Response) -> Response:
        """Record the conversation after an answer; say which turn this was, and how to
        start over when a resumed conversation could not be continued."""
        prev = self.previous
        turn = (prev.turns if prev else 0) + 1
        info: dict[str, object] = {"name": self.name, "turn": turn, "resumed": prev is not None}
        update: dict[str, object] = {}
        native = resp.session_id or (prev.native_id if prev else None)
        if resp.ok and native:  # a resumed CLI that names no id goes on with the same one
            now = time.time()
            saved = self.sessions.store.safely(
                self.sessions.save,
                Conversation(
                    self.name,
                    self.spec,
                    resp.provider,
                    prev.model if prev else resp.model_requested,
                    native,
                    self.cwd,
                    turn,
                    prev.created if prev else now,
                    now,
                ),
                prev,
            )
            info["native_id"] = native
            if not saved:
                info["warning"] = (
                    f"this turn of session {self.name!r} is not recorded: "
                    "another turn or a forget changed it meanwhile, or the "
                    "state store could not be written"
                )
        elif resp.ok:
            info["warning"] = (
                f"{resp.provider} reported no session id: the next turn of "
                f"{self.name!r} starts a new conversation"
            )
        elif prev is not None and resp.status in LOST:
            update["error"] = (
                f"{resp.error} (session {self.name!r}: {prev.provider} could not "
                f"continue conversation {prev.native_id}; `mm sessions forget "
                f"{self.name}` starts a new one)"
            )
        return resp.model_copy(update={**update, "metadata": {**resp.metadata, "session": info}})


def plan(
    name: str,
    specs: Sequence[str],
    chains: list[list[Route]],
    settings: Settings,
    store: Store,
    cwd: str | None,
) -> tuple[list[list[Route]], list[Turn]]:
    """Pin each spec's route to its conversation (or check a first turn can be continued
    later); raises UsageError, before anything runs, for what a session cannot do."""
    check_name(name)
    if len(set(specs)) < len(specs):
        raise UsageError("--session keeps one conversation per model: a model is listed twice")
    sessions = Sessions(store)
    here = os.path.realpath(cwd or os.getcwd())
    pinned: list[list[Route]] = []
    turns: list[Turn] = []
    for spec, chain in zip(specs, chains, strict=True):
        if len(chain) != 1:
            raise UsageError(
                f"--session keeps one conversation with one provider; {spec!r} is a fallback chain"
            )
        r = chain[0]
        prev = sessions.get(name, spec)
        if prev is not None:
            r = Route(
                spec=spec,
                provider=prev.provider,
                model=prev.model,
                resume=prev.native_id,
                reason=f"session {name!r}, turn {prev.turns + 1}: continues "
                f"{prev.provider} conversation {prev.native_id}",
            )
        else:
            prov = providers.get(r.provider, settings)
            if prov.resume_flag is None:
                raise UsageError(
                    f"--session cannot continue a conversation with {r.provider} "
                    f"({spec}): {prov.no_resume}. Sessions work with "
                    f"{', '.join(resumable())}"
                )
            r = replace(r, candidates=(), reason=f"{r.reason}; session {name!r}, turn 1")
        pinned.append([r])
        turns.append(Turn(sessions, name, spec, prev.cwd if prev else here, prev))
    return pinned, turns


def preflight(
    name: str,
    specs: Sequence[str],
    settings: Settings | None,
    allow_claude_cli: bool = False,
    allow_cursor_claude: bool = False,
) -> None:
    """The refusals of `plan`, for a request that runs later (`mm ask --background`)."""
    settings = settings or load_settings().settings
    chains = [
        route_all(
            chain_of(spec),
            settings,
            os.environ,
            allow_claude_cli=allow_claude_cli,
            allow_cursor_claude=allow_cursor_claude,
        )
        for spec in specs
    ]
    plan(name, specs, chains, settings, Store.of(os.environ), None)


def resumable() -> list[str]:
    """Built-in providers whose CLI can continue a conversation by id."""
    names = []
    for name in providers.CLI_NAMES:
        if providers.builtin(name).resume_flag is not None:
            names.append(name)
    return names
