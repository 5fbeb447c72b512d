"""The state store's tables (state.db, store.py): one ordered list of migrations and the one
function that applies them, for every module that keeps rows there (store: calls, cooling;
jobs; sessions). `PRAGMA user_version` counts the migrations a database has run.

Append a migration, never edit one that has shipped: a database remembers only how many ran.
The first three are the tables as the code before this list created them (`CREATE ... IF NOT
EXISTS`), so a database from then (user_version 0, any of them present) runs them harmlessly.
"""

from __future__ import annotations

import sqlite3

Migration = tuple[str, ...]
"""The statements of one migration, run in one transaction."""

STATE_DB: tuple[Migration, ...] = (
    (  # 1: the calls of every dispatch, and providers cooling off a quota (store.py)
        """CREATE TABLE IF NOT EXISTS calls (
            id INTEGER PRIMARY KEY,
            t REAL NOT NULL,
            spec TEXT,
            provider TEXT NOT NULL,
            model_requested TEXT,
            model_reported TEXT,
            status TEXT NOT NULL,
            error TEXT,
            duration_s REAL,
            input_tokens INTEGER,
            cached_tokens INTEGER,
            output_tokens INTEGER,
            cost_usd REAL,
            cost_source TEXT,
            attempt INTEGER NOT NULL DEFAULT 1,
            run_id TEXT,
            source TEXT,
            prompt_hash TEXT,
            prompt TEXT,
            answer TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS calls_t ON calls (t)",
        "CREATE INDEX IF NOT EXISTS calls_provider_t ON calls (provider, t)",
        """CREATE TABLE IF NOT EXISTS cooling (
            provider TEXT PRIMARY KEY,
            until REAL NOT NULL,
            reason TEXT NOT NULL,
            t REAL NOT NULL
        )""",
    ),
    (  # 2: background jobs (jobs.py)
        """CREATE TABLE IF NOT EXISTS jobs (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            key TEXT NOT NULL,
            status TEXT NOT NULL,
            pid INTEGER,
            created REAL NOT NULL,
            finished REAL,
            dir TEXT NOT NULL,
            summary TEXT,
            error TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS jobs_key ON jobs (key, created)",
    ),
    (  # 3: named conversations (sessions.py)
        """CREATE TABLE IF NOT EXISTS sessions (
            name TEXT NOT NULL,
            spec TEXT NOT NULL,
            provider TEXT NOT NULL,
            model TEXT,
            native_id TEXT NOT NULL,
            cwd TEXT NOT NULL,
            turns INTEGER NOT NULL,
            created REAL NOT NULL,
            updated REAL NOT NULL,
            PRIMARY KEY (name, spec)
        )""",
    ),
    (  # 4: calls of the --demo panel are marked, and left out of stats and costs unless asked;
        # the index serves `mm history --stats`' percentiles from an index-only scan
        "ALTER TABLE calls ADD COLUMN demo INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX IF NOT EXISTS calls_latency ON calls (provider, demo, duration_s, t)",
    ),
)


def migrate(conn: sqlite3.Connection, migrations: tuple[Migration, ...] = STATE_DB) -> int:
    """Run the migrations `conn`'s database has not run yet, in order, in one transaction
    (writers queue; a concurrent opener that got there first leaves nothing to do). `conn`
    is in autocommit mode (isolation_level=None). Returns the database's version after."""
    latest = len(migrations)
    if _version(conn) >= latest:
        return latest
    conn.execute("BEGIN IMMEDIATE")
    try:
        done = _version(conn)
        for statements in migrations[done:]:
            for statement in statements:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {max(done, latest)}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return max(done, latest)


def _version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])
