"""One Claude Code session's review state on disk, shared by the hooks, the background
reviewer and `mm review status`, and the review mode. Stdlib only (the hooks import it and
must start in milliseconds). Queue entries come from entries.py, findings text from
findings.py.

    <data_dir>/review/mode.json            modes set by `mm review on|off|mode` (global and
                                           per project)
    <data_dir>/review/sessions/<id>/
        meta.json       project dir, start time
        queue.jsonl     one line per edit, appended by the edit hook under an flock
        cursor          byte offset in queue.jsonl up to which edits have been reviewed
        flush           byte offset up to which the Stop hook wants a review now
        reviews.jsonl   one line per finished review: edits, files, findings, reviewer statuses
        delivered.json  findings shown to Claude (and when), and those the Stop gate listed
        worker.lock     held (flock) by the session's reviewer for as long as it runs
        worker.log      the reviewer's output
        ended           written by the SessionEnd hook
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from multi_model.paths import LAUNCHER, data_dir, user_config_path
from multi_model.review.findings import SEVERITIES
from multi_model.util.fs import atomic_write, lock_for_child

TYPE_CHECKING = False  # the hooks import this module: no `typing` at run time
if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from typing import Any

MODES = ("off", "stop", "edit")
KILL_SWITCH = "MULTI_MODEL_NO_REVIEW"
OPTION_MODE = "CLAUDE_PLUGIN_OPTION_REVIEW_MODE"
DEFAULTS: dict[str, Any] = {"mode": "off", "block_on": "high", "stop_wait": 90.0}
STOP_WAIT_MAX = 180.0  # the Stop hook's own timeout in hooks.json is 200 s


def review_root(env: Mapping[str, str]) -> Path:
    return data_dir(env) / "review"


# --- settings and mode ------------------------------------------------------------------------


def user_review_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """`[review]` of the user config, read with the stdlib (tomllib, Python 3.11+). Parsing
    TOML costs the hook more than the rest of its work, so the section is cached as JSON next
    to the sessions, keyed by the file's size and mtime. On 3.10 the hooks have no TOML
    parser; the reviewer (tomli) writes the cache when it starts."""
    path = user_config_path(env)
    try:
        st = path.stat()
    except OSError:
        return {}
    key = [str(path), st.st_size, st.st_mtime_ns]
    cache = review_root(env) / "config-cache.json"
    cached = _read_json(cache, {})
    if isinstance(cached, dict) and cached.get("key") == key:
        return cached.get("review") or {}
    # lazy: tomllib costs a hook as much again as the rest of its imports, and only a stale
    # cache needs it
    if sys.version_info >= (3, 11):
        import tomllib  # noqa: PLC0415 - start-up, see above
    else:  # pragma: no cover - 3.10: tomli where installed; else the reviewer fills the cache
        try:
            import tomli as tomllib  # noqa: PLC0415 - start-up, and the hooks may lack it
        except ImportError:
            return {}
    try:
        with open(path, "rb") as f:
            section = tomllib.load(f).get("review", {})
    except (OSError, ValueError):
        return {}
    section = section if isinstance(section, dict) else {}
    # TypeError: a TOML date, not JSON; read the file each time
    with contextlib.suppress(OSError, TypeError):
        _write_json(cache, {"key": key, "review": section})
    return section


def setting(env: Mapping[str, str], key: str) -> Any:
    value = user_review_settings(env).get(key, DEFAULTS[key])
    if key == "stop_wait":
        try:
            return max(0.0, min(float(value), STOP_WAIT_MAX))
        except (TypeError, ValueError):
            return DEFAULTS[key]
    if key == "block_on" and value not in (*SEVERITIES, "never"):
        return DEFAULTS[key]
    return value


def mode_file(env: Mapping[str, str]) -> Path:
    return review_root(env) / "mode.json"


def _read_json(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def _write_json(path: Path, value: Any) -> None:
    """Atomic: readers see the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(path, json.dumps(value))


def resolve_mode(env: Mapping[str, str], project: str | None) -> tuple[str, str]:
    """(mode, where it came from). Highest first: the kill switch, `mm review` for this
    project, `mm review --global`, the plugin's userConfig, the config file, off."""
    if env.get(KILL_SWITCH, "") not in ("", "0"):
        return "off", f"env {KILL_SWITCH}"
    saved = _read_json(mode_file(env), {})
    if not isinstance(saved, dict):
        saved = {}
    projects: dict[str, Any] = saved["projects"] if isinstance(saved.get("projects"), dict) else {}
    folder = next((p for p in _covering(project) if p in projects), None)
    here = folder is None or os.path.realpath(str(project)) == folder
    candidates = [
        (
            projects.get(folder) if folder else None,
            f"`mm review` for {folder}" + ("" if here else " (a parent folder of this project)"),
        ),
        (saved.get("global"), "`mm review --global`"),
        (env.get(OPTION_MODE, "").strip().lower() or None, "plugin option review_mode"),
        (user_review_settings(env).get("mode"), str(user_config_path(env))),
    ]
    for value, source in candidates:
        if value in MODES:
            return value, source
    return "off", "default"


def _covering(project: str | None) -> list[str]:
    """The folders whose `mm review` setting covers `project`: itself, then its parents up
    to the top of its git repository. A folder with its own `.git` is a project of its own:
    a setting made in a folder above it (a home folder, a workspace) does not reach it."""
    if not project:
        return []
    path = Path(os.path.realpath(project))
    found = []
    for folder in (path, *path.parents):
        found.append(str(folder))
        if (folder / ".git").exists():
            break
    else:  # in no repository: its own folder only
        return found[:1]
    return found


def set_mode(env: Mapping[str, str], mode: str, project: str | None) -> None:
    """Remember `mode` for `project` (None: the global default)."""
    path = mode_file(env)
    with locked(path.with_name("mode.lock")):
        saved = _read_json(path, {})
        if not isinstance(saved, dict):
            saved = {}
        if project is None:
            saved["global"] = mode
        else:
            saved.setdefault("projects", {})[os.path.realpath(project)] = mode
        _write_json(path, saved)


@contextmanager
def locked(path: Path, shared: bool = False) -> Iterator[int]:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)


# --- one session ------------------------------------------------------------------------------


def safe_id(session_id: str) -> str:
    cleaned = "".join(
        c if c.isascii() and (c.isalnum() or c in "_-") else "-" for c in session_id[:100]
    )
    return cleaned or "unknown"


class Session:
    def __init__(self, folder: Path) -> None:
        self.dir = folder
        self.queue = folder / "queue.jsonl"
        self.reviews_file = folder / "reviews.jsonl"
        self.delivered_file = folder / "delivered.json"
        self.lock_file = folder / "worker.lock"
        self.log = folder / "worker.log"

    @classmethod
    def of(cls, env: Mapping[str, str], session_id: str) -> Session:
        return cls(review_root(env) / "sessions" / safe_id(session_id))

    def create(self, project: str) -> None:
        if not self.dir.is_dir():
            self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            _write_json(
                self.dir / "meta.json",
                {"project": os.path.realpath(project), "started": time.time()},
            )

    @property
    def meta(self) -> dict[str, Any]:
        value = _read_json(self.dir / "meta.json", {})
        return value if isinstance(value, dict) else {}

    # queue
    def append(self, entry: Mapping[str, Any]) -> None:
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        fd = os.open(self.queue, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            view = memoryview(line)
            while view:  # a short write would leave a torn line
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)

    def queue_size(self) -> int:
        try:
            return self.queue.stat().st_size
        except OSError:
            return 0

    def edits(self, start: int = 0) -> list[tuple[dict[str, Any], int]]:
        """The queue's entries from byte `start`, each with the offset just after it."""
        try:
            fd = os.open(self.queue, os.O_RDONLY)
        except OSError:
            return []
        with os.fdopen(fd, "rb") as f:
            fcntl.flock(fd, fcntl.LOCK_SH)  # appends are whole lines under LOCK_EX
            f.seek(start)
            data = f.read()
        out, offset = [], start
        for line in data.splitlines(keepends=True):
            if not line.endswith(b"\n"):
                break
            offset += len(line)
            try:
                entry = json.loads(line)
            except ValueError:
                entry = None
            if not isinstance(entry, dict):
                entry = {"file": "?", "kind": "skipped", "note": "unreadable queue line"}
            out.append((entry, offset))
        return out

    def _offset(self, name: str) -> int:
        try:
            return int((self.dir / name).read_text().strip() or 0)
        except (OSError, ValueError):
            return 0

    def cursor(self) -> int:
        return self._offset("cursor")

    def set_cursor(self, offset: int) -> None:
        _write_json(self.dir / "cursor", offset)

    def flush_target(self) -> int:
        return self._offset("flush")

    def request_flush(self, offset: int) -> None:
        _write_json(self.dir / "flush", max(offset, self.flush_target()))

    def reviewable_end(self) -> int:
        """The offset after the last complete queue line (a torn tail is not an edit)."""
        cursor = self.cursor()
        entries = self.edits(cursor) if self.queue_size() > cursor else []
        return entries[-1][1] if entries else cursor

    @property
    def ended(self) -> bool:
        return (self.dir / "ended").exists()

    # reviews and delivery
    def reviews(self) -> list[dict[str, Any]]:
        try:
            lines = self.reviews_file.read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        out = []
        for line in lines:
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out

    def add_review(self, record: Mapping[str, Any]) -> None:
        with open(self.reviews_file, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, ensure_ascii=False) + "\n")

    def delivery(self) -> dict[str, Any]:
        value = _read_json(self.delivered_file, {})
        if not isinstance(value, dict):
            value = {}
        value.setdefault("shown", {})
        value.setdefault("gated", [])
        value.setdefault("statuses", [])
        return value

    def save_delivery(self, value: Mapping[str, Any]) -> None:
        _write_json(self.delivered_file, value)

    @contextmanager
    def delivering(self) -> Iterator[dict[str, Any]]:
        """The delivery record, locked and saved: parallel hooks never show a finding twice."""
        with locked(self.dir / "delivered.lock"):
            value = self.delivery()
            yield value
            self.save_delivery(value)

    # the background reviewer
    def worker_running(self) -> bool:
        """Whether the reviewer recorded in worker.pid is alive. Read without touching the
        lock: probing it would make a concurrent start_worker believe one runs."""
        try:
            pid = int((self.dir / "worker.pid").read_text().strip())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return False
        try:  # pid reuse: on Linux, check it is this session's reviewer
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return True  # no /proc (macOS): trust the live pid
        return str(self.dir).encode() in cmd

    def start_worker(self, env: Mapping[str, str], cwd: str) -> bool:
        """Start the session's reviewer unless one runs. The lock is taken here and handed to
        the child, so two hooks racing can never start two. True when one was started."""
        with lock_for_child(self.lock_file) as fd:
            if fd is None:
                return False
            # here, not at the top: most hook runs start nothing (the runner costs 40 ms)
            from multi_model import runner  # noqa: PLC0415

            argv = [*worker_command(), "review", "_watch", str(self.dir), "--lock-fd", str(fd)]
            child_env = {k: v for k, v in env.items() if k != "CLAUDE_PLUGIN_DATA"}
            try:
                pid = runner.spawn_detached(argv, cwd=cwd, env=child_env, log=self.log, keep_fd=fd)
                _write_json(self.dir / "worker.pid", pid)  # the launcher execs: same pid
            except OSError as exc:
                with open(self.log, "a", encoding="utf-8") as f:
                    f.write(f"{time.strftime('%H:%M:%S')} could not start the reviewer: {exc}\n")
                return False
        return True


def worker_command() -> list[str]:
    """The plugin's launcher (it provides the dependencies); from an installed package,
    the running interpreter."""
    if LAUNCHER.is_file():
        return [str(LAUNCHER)]
    return [sys.executable, "-m", "multi_model"]
