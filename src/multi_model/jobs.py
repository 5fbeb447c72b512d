"""Background jobs: `mm ask --background` and `mm council start` return a job id at once;
`mm jobs list | status | result | cancel ID`.

A job is a folder under the data dir (`jobs/<id>/`: request.json, the prompt as a 0600 file,
result.json, worker.log) and a row in the state store's `jobs` table (status, pid, times).
The worker (`python -m multi_model.jobs RUN_DIR`) runs in its own session and process group,
writes result.json atomically, then marks the row done. Whatever kills it:
    - SIGTERM (`mm jobs cancel`): the dispatch stops its CLIs, the row says cancelled;
    - SIGKILL, a crash, a reboot: the row still says running with a dead pid, and every
      reader marks it failed ("worker gone") the first time it looks.
An identical request (same models, prompt, timeout, settings) within JOIN_WINDOW_S of a job
that is running or just finished joins that job instead of starting another; `--fresh` forces
a new one.

A council job is a run of `mm council start` (its id is the run id, its folder the run
directory): the stage workers of a panel of CLIs carry it on by themselves, and its outcome
is the run's own record (result.json: done; failed.json: quorum not met; cancelled.json). A
stage worker that was killed leaves a run that continues (any council step, or for a panel
of CLIs `mm jobs status ID`, restarts the worker for the seats left), not a failed job.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from multi_model.errors import UsageError
from multi_model.paths import data_dir
from multi_model.runner import pid_alive as _alive
from multi_model.runner import stop_detached
from multi_model.store import Store

JOIN_WINDOW_S = 120.0
CANCEL_GRACE_S = 5.0
SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
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
);
CREATE INDEX IF NOT EXISTS jobs_key ON jobs (key, created);
"""
ACTIVE = "running"
FINAL = ("done", "failed", "cancelled")
COUNCIL_OUTCOMES = (("result.json", "done"), ("cancelled.json", "cancelled"),
                    ("failed.json", "failed"))
"""A council run's own record of how it ended."""


def jobs_dir(env: Mapping[str, str]) -> Path:
    return data_dir(env) / "jobs"


def request_key(kind: str, request: Mapping[str, Any]) -> str:
    text = json.dumps({"kind": kind, **request}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


class Jobs:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self.store = Store.of(env)
        self.store.connect().executescript(SCHEMA)

    # --- start -----------------------------------------------------------------------------

    def submit(self, kind: str, request: dict[str, Any], prompt: str,
               fresh: bool = False) -> tuple[str, bool]:
        """(job id, joined): a new background job, or the running/just-finished identical one."""
        key = request_key(kind, {**request, "prompt_sha": hashlib.sha256(
            prompt.encode("utf-8")).hexdigest()})
        with self.store.write() as conn:
            joined = None if fresh else self._joinable(conn, key)
            if joined:
                return joined, True
            job_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
            folder = jobs_dir(self.env) / job_id
            folder.mkdir(parents=True, mode=0o700)
            prompt_file = folder / "prompt.txt"
            fd = os.open(prompt_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(prompt)
            (folder / "request.json").write_text(json.dumps({"kind": kind, **request}))
            conn.execute("INSERT INTO jobs (id, kind, key, status, created, dir) VALUES "
                         "(?, ?, ?, 'running', ?, ?)", (job_id, kind, key, time.time(),
                                                        str(folder)))
        pid = self._spawn(folder)
        with self.store.write() as conn:
            conn.execute("UPDATE jobs SET pid = ? WHERE id = ?", (pid, job_id))
        return job_id, False

    @staticmethod
    def _joinable(conn: Any, key: str) -> str | None:
        """The running or just-finished job with this key, if any."""
        row = conn.execute(
            "SELECT id, status, finished, pid, kind, dir FROM jobs WHERE key = ? AND created "
            ">= ? AND status IN ('running', 'done') ORDER BY created DESC LIMIT 1",
            (key, time.time() - JOIN_WINDOW_S)).fetchone()
        if row is None:
            return None
        job_id, status, finished, pid, kind, folder = row
        if kind == "council":  # only a run still going: not one that ended, seen or not
            ended = any((Path(folder) / name).exists() for name, _ in COUNCIL_OUTCOMES)
            return job_id if status == ACTIVE and not ended else None
        if status == "done":
            return job_id if finished >= time.time() - JOIN_WINDOW_S else None
        # running: alive, or inserted but its pid not yet set
        return job_id if pid is None or _alive(pid) else None

    def joinable(self, kind: str, request: Mapping[str, Any]) -> str | None:
        """For work started elsewhere (a council run): an identical job to join, if any."""
        with self.store.write() as conn:
            return self._joinable(conn, request_key(kind, request))

    def register(self, kind: str, request: Mapping[str, Any], job_id: str,
                 folder: Path) -> None:
        """Work started elsewhere, as a running job (its outcome is read from `folder`)."""
        try:
            with self.store.write() as conn:
                conn.execute("INSERT INTO jobs (id, kind, key, status, created, dir) VALUES "
                             "(?, ?, ?, 'running', ?, ?)", (job_id, kind, request_key(
                                 kind, request), time.time(), str(folder)))
        except sqlite3.IntegrityError:
            raise UsageError(f"a job {job_id!r} exists already (the same seed in the same "
                             "second, another --runs-dir): start again") from None

    def _spawn(self, folder: Path) -> int:
        from multi_model import runner

        src = str(Path(__file__).resolve().parents[1])
        env = {**self.env, "PYTHONPATH": src + os.pathsep + self.env.get("PYTHONPATH", "")}
        return runner.spawn_detached([sys.executable, "-m", "multi_model.jobs", str(folder)],
                                     cwd=os.getcwd(), env=env, log=str(folder / "worker.log"))

    # --- read ------------------------------------------------------------------------------

    def get(self, job_id: str) -> dict[str, Any]:
        rows = self._rows("WHERE id = ?", (job_id,))
        if not rows:
            raise UsageError(f"no job {job_id!r} (see `mm jobs list`)")
        return rows[0]

    def list(self, limit: int = 50) -> list[dict[str, Any]]:
        return self._rows(f"ORDER BY created DESC LIMIT {int(limit)}", ())

    def _rows(self, tail: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        conn = self.store.connect()
        cols = ("id", "kind", "status", "pid", "created", "finished", "dir", "summary", "error")
        rows = [dict(zip(cols, r)) for r in conn.execute(
            f"SELECT {', '.join(cols)} FROM jobs {tail}", params)]
        for row in rows:
            if row["status"] == ACTIVE and row["kind"] == "council":
                self._council_outcome(row)
            elif row["status"] == ACTIVE and not _alive(row["pid"]) and row["pid"] is not None:
                self._finish(row["id"], "failed", error="worker gone (killed or crashed) "
                             "before it finished")
                row.update(status="failed", error="worker gone (killed or crashed) before "
                           "it finished")
        return rows

    def _council_outcome(self, row: dict[str, Any]) -> None:
        """A running council row brought up to date from its run's records (reads only)."""
        root = Path(row["dir"])
        for name, status in COUNCIL_OUTCOMES:
            try:
                at = (root / name).stat().st_mtime
                data = json.loads((root / name).read_text())
            except (OSError, ValueError):
                continue
            summary = _council_summary(data) if status == "done" else None
            error = None if status == "done" else str(data.get("error", status))
            self._finish(row["id"], status, summary=summary, error=error, at=at)
            row.update(status=status, summary=summary, error=error, finished=at)
            return
        try:
            opened = json.loads((root / "plan.json").read_text()).get("opened", {})
        except (OSError, ValueError):
            opened = {}
        stage = max(opened, key=opened.get, default="answer")
        row["summary"] = f"stage {stage}"

    def refresh(self, job_id: str) -> dict[str, Any]:
        """The job, after a council job has been carried as far as it goes (a dead stage
        worker restarted, the next stage opened, the result written)."""
        row = self.get(job_id)
        if row["kind"] == "council" and row["status"] == ACTIVE:
            from multi_model.council import steps

            steps.carry_on(Path(row["dir"]))
            row = self.get(job_id)
        return row

    def result(self, job_id: str) -> dict[str, Any] | list[Any] | None:
        row = self.get(job_id)
        path = Path(row["dir"]) / "result.json"
        return json.loads(path.read_text()) if path.exists() else None

    # --- finish / cancel --------------------------------------------------------------------

    def _finish(self, job_id: str, status: str, summary: str | None = None,
                error: str | None = None, at: float | None = None) -> None:
        with self.store.write() as conn:
            conn.execute("UPDATE jobs SET status = ?, finished = ?, summary = COALESCE(?, "
                         "summary), error = COALESCE(?, error) WHERE id = ? AND status = ?",
                         (status, at or time.time(), summary, error, job_id, ACTIVE))

    def cancel(self, job_id: str) -> str:
        row = self.get(job_id)
        if row["status"] != ACTIVE:
            return row["status"]
        if row["kind"] == "council":
            from multi_model.council import steps

            steps.cancel(steps.Run(Path(row["dir"])), CANCEL_GRACE_S)
            self._finish(job_id, "cancelled", error="cancelled by `mm jobs cancel`")
            return "cancelled"
        if row["pid"]:
            stop_detached([row["pid"]], CANCEL_GRACE_S)
        self._finish(job_id, "cancelled", error="cancelled by `mm jobs cancel`")
        return "cancelled"


def _council_summary(result: Mapping[str, Any]) -> str:
    answers = result.get("stage1_responses") or []
    ok = sum(1 for a in answers if a.get("status") == "ok")
    chair = result.get("chairman_model")
    end = (f"synthesis by {chair}" if result.get("stage3_synthesis") else "no synthesis")
    return f"{ok} of {len(answers)} answered; {end}"


# --- the worker ------------------------------------------------------------------------------

def run(folder: Path) -> int:
    from multi_model.fanout import dispatch
    from multi_model.store import context
    from multi_model.tasks import apply_profile

    job_id = folder.name
    jobs = Jobs(os.environ)
    request = json.loads((folder / "request.json").read_text())
    prompt = (folder / "prompt.txt").read_text(encoding="utf-8")
    try:
        from multi_model.config import load_settings

        settings, _ = apply_profile(load_settings().settings, request.get("profile"))
        with context(run_id=job_id, source="job"):
            responses = dispatch(
                request["models"], prompt, timeout=request.get("timeout"), settings=settings,
                allow_cursor_claude=request.get("allow_cursor_claude", False),
                allow_claude_cli=request.get("allow_claude_cli", False),
                local_only=request.get("local_only", False), session=request.get("session"))
    except KeyboardInterrupt:  # SIGTERM from `mm jobs cancel`: the CLIs are stopped
        jobs._finish(job_id, "cancelled", error="cancelled")
        return 130
    except Exception as exc:  # noqa: BLE001 - the job records why, the store stays consistent
        jobs._finish(job_id, "failed", error=f"{type(exc).__name__}: {exc}")
        return 1
    data = [r.model_dump(mode="json") for r in responses]
    tmp = folder / ".result.json.tmp"
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, folder / "result.json")
    ok = sum(r.ok for r in responses)
    jobs._finish(job_id, "done", summary=f"{ok} of {len(responses)} answered")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    signal.signal(signal.SIGTERM, _raise_interrupt)
    return run(Path(argv[0]))


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
