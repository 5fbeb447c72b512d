"""The only place that starts processes (HTTP connections: httpcall.py).

Process contract (`run`): argv list, never a shell; stdin is the prompt (from an unlinked 0600
temp file) or /dev/null, never inherited; stdout and stderr go to temp files, because CLIs
leave children holding pipes open; each call gets its own process group and a marker in its
environment (proctree.py); inside a worker, a watchdog (callguard.py) stops the call if the
worker dies first, however it dies. When the call ends, ok or not, everything it started is
sent TERM then KILL after a short grace: the group, every process carrying the marker
(descendants that called setsid included) and their descendants; zombies awaiting init do
not count as running. Output beyond the cap on either stream stops the process and is flagged;
undecodable bytes are replaced. `run` never raises for anything the child does.
Stdlib only (the review hooks start their reviewer here): the call pieces come from `calls`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO

from multi_model import proctree
from multi_model.calls import PROMPT_FILE, Invocation, RunOutput

MiB = 1024 * 1024
DEFAULT_OUTPUT_CAP = 10 * MiB
TERM_GRACE_S = 0.5  # after the timeout: a CLI ignoring SIGTERM is reported this late
KILL_WAIT_S = proctree.KILL_WAIT_S
_POLL_S = 0.02
NUL_IN_ARGV = (
    "a NUL byte in the command line (the prompt or a value this CLI takes as an "
    "argument cannot hold one); not started"
)
_GUARD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "callguard.py")
_GUARD_MARGIN_S = 2.0  # the watchdog's own deadline leaves the runner time to stop first


def resolve_executable(name: str, path: str | None) -> str | None:
    """Absolute path of `name` on `path` (or itself if it is a path that exists), else None."""
    if os.sep in name:
        return name if os.access(name, os.X_OK) and os.path.isfile(name) else None
    return shutil.which(name, path=path if path is not None else os.defpath)


def run(
    inv: Invocation,
    timeout: float,
    *,
    output_cap: int = DEFAULT_OUTPUT_CAP,
    term_grace: float = TERM_GRACE_S,
    cancel: threading.Event | None = None,
) -> RunOutput:
    """Run one invocation. Never raises; timed_out=True after `timeout` s, cancelled=True
    when `cancel` is set first (the group is stopped either way)."""
    exe = resolve_executable(inv.argv[0], inv.env.get("PATH"))
    if exe is None:
        return RunOutput(spawn_error=f"{inv.argv[0]}: not found on PATH")
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(tempfile.TemporaryFile(prefix="mm-out-"))
        err = stack.enter_context(tempfile.TemporaryFile(prefix="mm-err-"))
        stdin = stack.enter_context(_stdin_file(inv.stdin))
        argv = [exe, *inv.argv[1:]]
        if inv.prompt_file is not None:
            path = stack.enter_context(_prompt_file(inv.prompt_file))
            argv = [a.replace(PROMPT_FILE, path) for a in argv]
        start = time.monotonic()
        call_id = uuid.uuid4().hex
        tell_guard = stack.enter_context(
            _watchdog(call_id, timeout + term_grace + KILL_WAIT_S + _GUARD_MARGIN_S)
        )
        proc = _spawn(argv, _marked_env(inv.env, call_id), inv.cwd, (stdin, out, err))
        if isinstance(proc, str):
            return RunOutput(spawn_error=f"{exe}: {proc}", executable=exe)
        tell_guard(proc.pid)
        ended = _wait(proc, (out, err), timeout, output_cap, cancel or threading.Event())
        duration = time.monotonic() - start
        _stop_call(proc, call_id, term_grace)
        stdout, cut_out = _read_capped(out, output_cap)
        stderr, cut_err = _read_capped(err, output_cap)
    return RunOutput(
        stdout=stdout,
        stderr=stderr,
        exit_code=proc.returncode,
        duration_s=duration,
        timed_out=ended == "timeout",
        cancelled=ended == "cancel",
        truncated=ended == "cap" or cut_out or cut_err,
        executable=exe,
    )


def run_quick(
    argv: Sequence[str], *, env: Mapping[str, str], cwd: str | None = None, timeout: float = 10.0
) -> str | None:
    """The stdout of a short command (e.g. `git rev-parse`) that exits 0 within `timeout` s;
    None when it is missing, fails or runs late. Never raises."""
    out = run(Invocation(argv=tuple(argv), env=env, cwd=cwd), timeout)
    return out.stdout if out.exit_code == 0 and not out.timed_out else None


def spawn_detached(
    argv: list[str],
    *,
    cwd: str,
    env: Mapping[str, str],
    log: str | Path,
    keep_fd: int | None = None,
) -> int:
    """Start a background process that outlives its parent (a stage worker, a reviewer): its
    own session, stdin from /dev/null, stdout and stderr appended to `log` (created 0600),
    `keep_fd` (a lock it keeps: util.fs.lock_for_child) passed on. Its pid; raises OSError."""
    out = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            env=env,
            cwd=cwd,
            start_new_session=True,
            close_fds=True,
            pass_fds=() if keep_fd is None else (keep_fd,),
        )
    finally:
        os.close(out)
    return proc.pid


def pid_alive(pid: int | None) -> bool:
    """Whether a process runs (a zombie, our own child not yet reaped, does not)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def stop_detached(pids: list[int], grace: float | None) -> None:
    """Stop the process groups led by `pids` (started with `spawn_detached`): SIGTERM, then
    SIGKILL for a leader still alive after `grace` seconds (None: SIGTERM only)."""
    for pid in pids:
        _signal_group(pid, signal.SIGTERM)
    if grace is None:
        return
    deadline = time.monotonic() + grace
    while any(pid_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in pids:
        if pid_alive(pid):
            _signal_group(pid, signal.SIGKILL)


def _marked_env(env: Mapping[str, str], call_id: str) -> dict[str, str]:
    """The call's environment with its markers: its own id, and our worker's scope if any."""
    scope = os.environ.get(proctree.SCOPE_VAR)
    return {**env, proctree.CALL_VAR: call_id, **({proctree.SCOPE_VAR: scope} if scope else {})}


@contextlib.contextmanager
def _watchdog(call_id: str, limit: float) -> Iterator[Callable[[int], None]]:
    """Inside a worker (its scope in our environment): a callguard.py process that stops the
    call when the worker dies or after `limit` s, killed when the call is over; yields how
    to tell it the call's process group. Outside a worker, or if it cannot start: nothing."""
    if not os.environ.get(proctree.SCOPE_VAR):
        yield lambda pid: None
        return
    read, write = os.pipe()  # the write end stays here alone: it closes when we die
    try:
        guard = _start_guard(read, call_id, limit)
    finally:
        os.close(read)
    if guard is None:
        os.close(write)
        yield lambda pid: None
        return
    try:
        yield lambda pid: _write_quietly(write, f"{pid}\n".encode())
    finally:
        guard.kill()
        guard.wait()
        os.close(write)


def _start_guard(stdin: int, call_id: str, limit: float) -> subprocess.Popen[bytes] | None:
    try:
        return subprocess.Popen(
            [sys.executable, "-I", "-S", _GUARD, call_id, f"{limit:.3f}"],
            stdin=stdin,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )
    except (OSError, ValueError):
        return None


def _write_quietly(fd: int, data: bytes) -> None:
    with contextlib.suppress(OSError):
        os.write(fd, data)


def _spawn(
    argv: list[str],
    env: dict[str, str],
    cwd: str | None,
    files: tuple[IO[bytes] | int, IO[bytes], IO[bytes]],
) -> subprocess.Popen[bytes] | str:
    """Start the leader of a new process group; the reason as a string when it cannot start."""
    stdin, out, err = files
    if any("\0" in arg for arg in argv):
        return NUL_IN_ARGV
    try:
        return subprocess.Popen(
            argv,
            stdin=stdin,
            stdout=out,
            stderr=err,
            env=env,
            cwd=cwd,
            start_new_session=True,
            close_fds=True,
        )
    except (OSError, ValueError) as exc:  # ValueError: NUL byte or unencodable argv/env
        return str(getattr(exc, "strerror", None) or exc)


def _wait(
    proc: subprocess.Popen[bytes],
    files: tuple[IO[bytes], ...],
    timeout: float,
    cap: int,
    cancel: threading.Event,
) -> str:
    """Wait for the leader to exit: "exit", or why it has to be stopped first ("timeout",
    "cap", "cancel"). Both streams count: a CLI flooding stderr is stopped like stdout."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return "timeout"
        try:
            proc.wait(timeout=min(_POLL_S, remaining))
            return "exit"
        except subprocess.TimeoutExpired:
            pass
        if cancel.is_set():
            return "cancel"
        if any(os.fstat(f.fileno()).st_size > cap for f in files):
            return "cap"


def _stop_call(proc: subprocess.Popen[bytes], call_id: str, grace: float) -> None:
    """TERM whatever the call left running (the leader on timeout or cap, helpers that
    outlived it otherwise, in its group or not), KILL it after `grace` s; always reaps the
    leader."""

    def left() -> proctree.Found:
        proc.poll()
        found = proctree.find({proctree.CALL_VAR: call_id}, group=proc.pid)
        # without /proc, the group as killpg sees it (a placeholder start time: never used)
        return found or ({proc.pid: -1} if _group_alive(proc) else {})

    proctree.stop(left, grace, group=proc.pid)
    proc.wait()


def _group_alive(proc: subprocess.Popen[bytes]) -> bool:
    """True while a process of the group still runs. Zombies do not count: they hold no
    files and wait only for their parent (orphans for init, which may reap them late)."""
    proc.poll()
    if not _signal_group(proc.pid, 0):
        return False
    if not os.path.isdir("/proc/self"):
        return True  # no /proc (macOS): trust killpg; launchd reaps orphans promptly
    return any(
        _runs_in_group(entry.name, proc.pid)
        for entry in os.scandir("/proc")
        if entry.name.isdigit()
    )


def _runs_in_group(pid: str, pgid: int) -> bool:
    """Whether /proc/<pid> is a live (not zombie) member of process group `pgid`."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    fields = stat[stat.rfind(b")") + 2 :].split()
    return len(fields) > 2 and fields[0] not in (b"Z", b"X") and int(fields[2]) == pgid


def _signal_group(pgid: int, sig: int) -> bool:
    """Send `sig` to the group; False when no process is left in it."""
    try:
        os.killpg(pgid, sig)
        return True
    except (ProcessLookupError, PermissionError):
        return False


@contextlib.contextmanager
def _stdin_file(text: str | None) -> Iterator[IO[bytes] | int]:
    """The prompt as an unlinked 0600 temp file, or /dev/null."""
    if text is None:
        yield subprocess.DEVNULL
        return
    with tempfile.TemporaryFile(prefix="mm-in-") as f:
        f.write(_encode(text))
        f.seek(0)
        yield f


@contextlib.contextmanager
def _prompt_file(text: str) -> Iterator[str]:
    """A named 0600 temp file holding the prompt, removed afterwards."""
    fd, path = tempfile.mkstemp(prefix="mm-prompt-", suffix=".md")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(_encode(text))
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _encode(text: str) -> bytes:
    """UTF-8; a lone surrogate (a broken emoji from a JSON source) becomes '?' instead of
    an exception."""
    return text.encode("utf-8", errors="replace")


def _read_capped(f: IO[bytes], cap: int) -> tuple[str, bool]:
    f.seek(0)
    data = f.read(cap + 1)
    return data[:cap].decode("utf-8", errors="replace"), len(data) > cap
