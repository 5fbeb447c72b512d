"""Background jobs: `mm ask --background` and `mm council start` return a job id at once;
`mm jobs list | status | result | cancel ID`.

A job is a folder under the data dir (`jobs/<id>/`: request.json, the prompt as a 0600 file,
result.json, worker.log) and a row in the state store's `jobs` table (status, pid, times).
The worker (`python -m multi_model.jobs RUN_DIR`) runs in its own session and process group,
writes result.json atomically, then marks the row done. Whatever kills it:
    - SIGTERM (`mm jobs cancel`): the dispatch stops its CLIs, the row says cancelled;
    - SIGKILL, a crash, a reboot: the row still says running with a dead pid, and every
      reader marks it failed ("worker gone") the first time it looks, and first stops
      whatever the worker had started: every process it started carries the job's scope
      marker (proctree.py), even one that left the CLI's process group.
An identical request (same models, prompt, timeout, settings) within JOIN_WINDOW_S of a job
that is running or just finished joins that job instead of starting another; `--fresh` forces
a new one.

Other kinds of job are work started elsewhere and run by their own workers, registered with
`register_kind(name, JobKind(...))`: the kind tells how a job ends (from its own records,
never read here), carries it on, cancels it and reads its result. The council's kind is in
council/hosted/job.py (a run of `mm council start`: its id is the run id, its folder the run
directory); whoever handles council jobs calls its `register()` first. A row of a kind
nobody registered is listed as it is; any other use of it is a UsageError.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import sqlite3
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from multi_model import proctree, runner
from multi_model.errors import UsageError
from multi_model.paths import data_dir
from multi_model.runner import pid_alive as _alive, stop_detached
from multi_model.store import Store, context
from multi_model.util.fs import atomic_write
from multi_model.util.signals import sigterm_interrupts

JOIN_WINDOW_S = 120.0
CANCEL_GRACE_S = 5.0
LEFTOVER_GRACE_S = 0.5  # a dead worker's leftovers: SIGTERM, then SIGKILL
ACTIVE = "running"
FINAL = ("done", "failed", "cancelled")
BUILTIN = "ask"  # the kind this module runs itself (its worker: `run` below)
Rows = list[dict[str, Any]]  # (`Jobs.list` hides the builtin inside the class)


@dataclass(frozen=True)
class Outcome:
    """Where a job of a registered kind stands: `status` is ACTIVE while it runs (`summary`
    then says how far it got, shown but not stored), else one of FINAL, ended at `at`."""

    status: str
    summary: str | None = None
    error: str | None = None
    at: float | None = None


@dataclass(frozen=True)
class JobKind:
    """A kind of job whose work runs elsewhere; each callable takes the job's folder."""

    outcome: Callable[[Path], Outcome]
    """Reads only."""
    joinable: Callable[[Path], bool]
    """May an identical request join this running job."""
    carry_on: Callable[[Path], None]
    """Take it as far as it goes now; never raises."""
    cancel: Callable[[Path, float], None]
    """Stop its work: SIGTERM, then SIGKILL after the grace seconds."""
    result: Callable[[Path], Any]
    """Its result as JSON data; None when it has none."""


_KINDS: dict[str, JobKind] = {}


def register_kind(name: str, kind: JobKind) -> None:
    """Make jobs of kind `name` readable, joinable and cancellable (idempotent)."""
    _KINDS[name] = kind


def kind_of(name: str) -> JobKind | None:
    """The registered kind; None for BUILTIN. UsageError for a kind nobody registered."""
    if name == BUILTIN:
        return None
    if name not in _KINDS:
        known = ", ".join(sorted({BUILTIN, *_KINDS}))
        raise UsageError(f"a job of kind {name!r} cannot be handled here (known kinds: {known})")
    return _KINDS[name]


def jobs_dir(env: Mapping[str, str]) -> Path:
    return data_dir(env) / "jobs"


def scope_of(folder: Path) -> str:
    """The scope marker of an ask job's worker and of everything it starts."""
    return proctree.scope_token("ask", os.path.realpath(folder))


def request_key(kind: str, request: Mapping[str, Any]) -> str:
    text = json.dumps({"kind": kind, **request}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


class Jobs:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self.store = Store.of(env)
        self.store.connect()  # its tables: migrations.py

    # --- start -----------------------------------------------------------------------------

    def submit(
        self, kind: str, request: dict[str, Any], prompt: str, fresh: bool = False
    ) -> tuple[str, bool]:
        """(job id, joined): a new background job, or the running/just-finished identical one."""
        key = request_key(
            kind, {**request, "prompt_sha": hashlib.sha256(prompt.encode("utf-8")).hexdigest()}
        )
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
            conn.execute(
                "INSERT INTO jobs (id, kind, key, status, created, dir) VALUES "
                "(?, ?, ?, 'running', ?, ?)",
                (job_id, kind, key, time.time(), str(folder)),
            )
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
            (key, time.time() - JOIN_WINDOW_S),
        ).fetchone()
        if row is None:
            return None
        job_id, status, finished, pid, kind, folder = row
        if kind in _KINDS:  # only work still going: not work that ended, seen or not
            return job_id if status == ACTIVE and _KINDS[kind].joinable(Path(folder)) else None
        if status == "done":
            return job_id if finished >= time.time() - JOIN_WINDOW_S else None
        # running: alive, or inserted but its pid not yet set
        return job_id if pid is None or _alive(pid) else None

    def joinable(self, kind: str, request: Mapping[str, Any]) -> str | None:
        """For work started elsewhere (a registered kind): an identical job to join, if any."""
        kind_of(kind)
        with self.store.write() as conn:
            return self._joinable(conn, request_key(kind, request))

    def register(self, kind: str, request: Mapping[str, Any], job_id: str, folder: Path) -> None:
        """Work started elsewhere, as a running job (its outcome is read from `folder`)."""
        try:
            with self.store.write() as conn:
                conn.execute(
                    "INSERT INTO jobs (id, kind, key, status, created, dir) VALUES "
                    "(?, ?, ?, 'running', ?, ?)",
                    (job_id, kind, request_key(kind, request), time.time(), str(folder)),
                )
        except sqlite3.IntegrityError:
            raise UsageError(
                f"a job {job_id!r} exists already (the same seed in the same "
                "second, another --runs-dir): start again"
            ) from None

    def _spawn(self, folder: Path) -> int:
        src = str(Path(__file__).resolve().parents[1])
        env = {
            **self.env,
            "PYTHONPATH": src + os.pathsep + self.env.get("PYTHONPATH", ""),
            proctree.SCOPE_VAR: scope_of(folder),
        }
        return runner.spawn_detached(
            [sys.executable, "-m", "multi_model.jobs", str(folder)],
            cwd=os.getcwd(),
            env=env,
            log=str(folder / "worker.log"),
        )

    # --- read ------------------------------------------------------------------------------

    def get(self, job_id: str) -> dict[str, Any]:
        rows = self._rows("WHERE id = ?", (job_id,))
        if not rows:
            raise UsageError(f"no job {job_id!r} (see `mm jobs list`)")
        return rows[0]

    def list(self, limit: int = 50) -> Rows:
        return self._rows(f"ORDER BY created DESC LIMIT {int(limit)}", ())

    def _rows(self, tail: str, params: tuple[Any, ...]) -> Rows:
        conn = self.store.connect()
        cols = ("id", "kind", "status", "pid", "created", "finished", "dir", "summary", "error")
        rows = [
            dict(zip(cols, r, strict=True))
            for r in conn.execute(f"SELECT {', '.join(cols)} FROM jobs {tail}", params)
        ]
        for row in rows:
            if row["status"] == ACTIVE and row["kind"] in _KINDS:
                self._outcome(row, _KINDS[row["kind"]])
            elif row["status"] == ACTIVE and not _alive(row["pid"]) and row["pid"] is not None:
                proctree.stop_scope(scope_of(Path(row["dir"])), LEFTOVER_GRACE_S)
                self._finish(
                    row["id"], "failed", error="worker gone (killed or crashed) before it finished"
                )
                row.update(
                    status="failed", error="worker gone (killed or crashed) before it finished"
                )
        return rows

    def _outcome(self, row: dict[str, Any], kind: JobKind) -> None:
        """A running row of a registered kind brought up to date from its own records."""
        outcome = kind.outcome(Path(row["dir"]))
        if outcome.status == ACTIVE:
            row["summary"] = outcome.summary
            return
        self._finish(
            row["id"], outcome.status, summary=outcome.summary, error=outcome.error, at=outcome.at
        )
        row.update(
            status=outcome.status, summary=outcome.summary, error=outcome.error, finished=outcome.at
        )

    def refresh(self, job_id: str) -> dict[str, Any]:
        """The job, after a job of a registered kind has been carried as far as it goes
        (for a council: a dead stage worker restarted, the next stage opened, the result
        written)."""
        row = self.get(job_id)
        kind = kind_of(row["kind"])
        if kind is not None and row["status"] == ACTIVE:
            kind.carry_on(Path(row["dir"]))
            row = self.get(job_id)
        return row

    def result(self, job_id: str) -> dict[str, Any] | builtins.list[Any] | None:
        row = self.get(job_id)
        kind = kind_of(row["kind"])
        if kind is not None:
            return kind.result(Path(row["dir"]))  # type: ignore[no-any-return]
        path = Path(row["dir"]) / "result.json"
        return json.loads(path.read_text()) if path.exists() else None

    # --- finish / cancel --------------------------------------------------------------------

    def _finish(
        self,
        job_id: str,
        status: str,
        summary: str | None = None,
        error: str | None = None,
        at: float | None = None,
    ) -> None:
        with self.store.write() as conn:
            conn.execute(
                "UPDATE jobs SET status = ?, finished = ?, summary = COALESCE(?, "
                "summary), error = COALESCE(?, error) WHERE id = ? AND status = ?",
                (status, at or time.time(), summary, error, job_id, ACTIVE),
            )

    def cancel(self, job_id: str) -> str:
        row = self.get(job_id)
        if row["status"] != ACTIVE:
            return str(row["status"])
        kind = kind_of(row["kind"])
        if kind is not None:
            kind.cancel(Path(row["dir"]), CANCEL_GRACE_S)
        elif row["pid"]:
            stop_detached([row["pid"]], CANCEL_GRACE_S)
            proctree.stop_scope(scope_of(Path(row["dir"])), LEFTOVER_GRACE_S)
        self._finish(job_id, "cancelled", error="cancelled by `mm jobs cancel`")
        return "cancelled"


# --- the worker ------------------------------------------------------------------------------


def run(folder: Path) -> int:
    # lazy: the worker's dispatch and settings load pydantic and every provider, which
    # `mm jobs list | status | cancel` (and the council's job kind) never need
    from multi_model.config import load_settings  # noqa: PLC0415 - start-up, see above
    from multi_model.fanout import dispatch  # noqa: PLC0415 - start-up, see above
    from multi_model.tasks import apply_profile  # noqa: PLC0415 - start-up, see above

    job_id = folder.name
    jobs = Jobs(os.environ)
    request = json.loads((folder / "request.json").read_text())
    prompt = (folder / "prompt.txt").read_text(encoding="utf-8")
    try:
        settings, _ = apply_profile(load_settings().settings, request.get("profile"))
        env = None
        if request.get("demo"):  # the bundled stand-ins (`mm mcp --demo`), as `--demo` runs
            from multi_model import demo  # noqa: PLC0415 - start-up, see above

            env, settings, _ = demo.setup(",".join(request["models"]))
        with context(run_id=job_id, source="job"):
            responses = dispatch(
                request["models"],
                prompt,
                timeout=request.get("timeout"),
                env=env,
                settings=settings,
                allow_cursor_claude=request.get("allow_cursor_claude", False),
                allow_claude_cli=request.get("allow_claude_cli", False),
                local_only=request.get("local_only", False),
                session=request.get("session"),
            )
    except KeyboardInterrupt:  # SIGTERM from `mm jobs cancel`: the CLIs are stopped
        jobs._finish(job_id, "cancelled", error="cancelled")
        return 130
    except Exception as exc:  # noqa: BLE001 - the job records why, the store stays consistent
        jobs._finish(job_id, "failed", error=f"{type(exc).__name__}: {exc}")
        return 1
    if env is not None:
        responses = demo.label(responses)
    data = [r.model_dump(mode="json") for r in responses]
    atomic_write(folder / "result.json", json.dumps(data, indent=2))
    ok = sum(r.ok for r in responses)
    jobs._finish(job_id, "done", summary=f"{ok} of {len(responses)} answered")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    with sigterm_interrupts():  # `mm jobs cancel`: the same clean stop as Ctrl-C
        return run(Path(argv[0]))


if __name__ == "__main__":
    sys.exit(main())
