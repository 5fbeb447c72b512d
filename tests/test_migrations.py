"""The state store's tables come from one migrations list (migrations.py); a database made
by the code before that list opens unchanged and is brought to the latest version."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest

from multi_model import migrations
from multi_model.jobs import Jobs
from multi_model.sessions import Sessions
from multi_model.store import Store

# The tables as store.py, jobs.py and sessions.py created them before (same statements,
# columns packed onto fewer lines).
OLD_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    id INTEGER PRIMARY KEY, t REAL NOT NULL, spec TEXT, provider TEXT NOT NULL,
    model_requested TEXT, model_reported TEXT, status TEXT NOT NULL, error TEXT,
    duration_s REAL, input_tokens INTEGER, cached_tokens INTEGER, output_tokens INTEGER,
    cost_usd REAL, cost_source TEXT, attempt INTEGER NOT NULL DEFAULT 1, run_id TEXT,
    source TEXT, prompt_hash TEXT, prompt TEXT, answer TEXT
);
CREATE INDEX IF NOT EXISTS calls_t ON calls (t);
CREATE INDEX IF NOT EXISTS calls_provider_t ON calls (provider, t);
CREATE TABLE IF NOT EXISTS cooling (
    provider TEXT PRIMARY KEY, until REAL NOT NULL, reason TEXT NOT NULL, t REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL, status TEXT NOT NULL,
    pid INTEGER, created REAL NOT NULL, finished REAL, dir TEXT NOT NULL, summary TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS jobs_key ON jobs (key, created);
CREATE TABLE IF NOT EXISTS sessions (
    name TEXT NOT NULL, spec TEXT NOT NULL, provider TEXT NOT NULL, model TEXT,
    native_id TEXT NOT NULL, cwd TEXT NOT NULL, turns INTEGER NOT NULL, created REAL NOT NULL,
    updated REAL NOT NULL, PRIMARY KEY (name, spec)
);
"""


def old_database(path: Path, schema: str = OLD_SCHEMA) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.executescript(schema)
    conn.execute("INSERT INTO calls (t, provider, status) VALUES (1.0, 'codex', 'ok')")
    conn.execute("INSERT INTO cooling VALUES ('gemini', 9e9, 'quota', 1.0)")
    if "jobs" in schema:
        conn.execute(
            "INSERT INTO jobs (id, kind, key, status, created, dir) VALUES "
            "('j1', 'ask', 'k', 'done', 1.0, '/nowhere')"
        )
        conn.execute(
            "INSERT INTO sessions VALUES ('design', 'codex', 'codex', NULL, 'n1', "
            "'/p', 2, 1.0, 2.0)"
        )
    conn.commit()
    conn.close()


def test_a_database_from_before_the_list_opens_with_its_rows() -> None:
    store = Store.of(os.environ)
    old_database(store.path)
    assert [c["provider"] for c in store.calls()] == ["codex"]
    assert "gemini" in store.cooling(now=2.0)
    assert Jobs(os.environ).get("j1")["status"] == "done"
    assert [c.native_id for c in Sessions(store).list()] == ["n1"]
    assert store.connect().execute("PRAGMA user_version").fetchone()[0] == len(migrations.STATE_DB)
    assert store.calls()[0]["demo"] == 0  # old rows: real calls
    assert store.connect().execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_an_old_database_without_the_later_tables_gets_them() -> None:
    store = Store.of(os.environ)
    old_database(store.path, OLD_SCHEMA.split("CREATE TABLE IF NOT EXISTS jobs")[0])
    Jobs(os.environ)  # used to create its table itself
    tables = {
        r[0] for r in store.connect().execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    assert tables == {"calls", "cooling", "jobs", "sessions"}
    assert len(store.calls()) == 1


def test_only_the_migrations_not_run_yet_run(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    first = (("CREATE TABLE a (x INTEGER)",),)
    assert migrations.migrate(conn, first) == 1
    conn.execute("INSERT INTO a VALUES (1)")
    later = (*first, ("ALTER TABLE a ADD COLUMN y TEXT",))
    assert migrations.migrate(conn, later) == 2  # the first is not run again
    assert migrations.migrate(conn, later) == 2
    assert conn.execute("SELECT x, y FROM a").fetchall() == [(1, None)]
    assert migrations.migrate(conn, first) == 1  # a newer database is left alone
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2


def test_a_failing_migration_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    broken = (("CREATE TABLE a (x INTEGER)",), ("CREATE TABLE a (x INTEGER)",))
    with pytest.raises(sqlite3.OperationalError):
        migrations.migrate(conn, broken)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0


def test_openers_racing_on_a_new_database_all_succeed() -> None:
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            store = Store.of(os.environ)
            store.connect()
            store.close()
        except BaseException as exc:  # noqa: BLE001 - collected for the assert
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Store.of(os.environ).connect().execute("PRAGMA user_version").fetchone()[0] == len(
        migrations.STATE_DB
    )
