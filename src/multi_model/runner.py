"""The only place that starts processes or opens HTTP connections.

Process contract (`run`): argv list, never a shell; stdin is the prompt (from an unlinked 0600
temp file) or /dev/null, never inherited; stdout and stderr go to temp files, because CLIs
leave children holding pipes open; each call gets its own process group, which is sent TERM
then KILL on timeout and cleaned up after the leader exits; output beyond the cap stops the
process and is flagged; undecodable bytes are replaced. `run` never raises for anything the
child does.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import IO

from multi_model.models import PROMPT_FILE, HttpCall, HttpReply, Invocation, RunOutput

MiB = 1024 * 1024
DEFAULT_OUTPUT_CAP = 10 * MiB
TERM_GRACE_S = 2.0
_POLL_S = 0.02


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
) -> RunOutput:
    """Run one invocation. Never raises; returns timed_out=True after `timeout` s."""
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
        try:
            proc = subprocess.Popen(
                argv,
                stdin=stdin,
                stdout=out,
                stderr=err,
                env=dict(inv.env),
                cwd=inv.cwd,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            return RunOutput(spawn_error=f"{exe}: {exc.strerror or exc}", executable=exe)
        timed_out, over_cap = _wait(proc, out, timeout, output_cap, term_grace)
        duration = time.monotonic() - start
        _clean_group(proc.pid, term_grace)
        stdout, cut_out = _read_capped(out, output_cap)
        stderr, cut_err = _read_capped(err, output_cap)
    return RunOutput(
        stdout=stdout,
        stderr=stderr,
        exit_code=proc.returncode,
        duration_s=duration,
        timed_out=timed_out,
        truncated=over_cap or cut_out or cut_err,
        executable=exe,
    )


def _wait(
    proc: subprocess.Popen[bytes], out: IO[bytes], timeout: float, cap: int, grace: float
) -> tuple[bool, bool]:
    """Wait for the leader; kill its group on timeout or when stdout passes the cap."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            _kill_group(proc, grace)
            return True, False
        try:
            proc.wait(timeout=min(_POLL_S, remaining))
            return False, False
        except subprocess.TimeoutExpired:
            pass
        if os.fstat(out.fileno()).st_size > cap:
            _kill_group(proc, grace)
            return False, True


def _kill_group(proc: subprocess.Popen[bytes], grace: float) -> None:
    """TERM the whole group, give it `grace` s, then KILL; always reaps the leader."""
    _signal_group(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        _signal_group(proc.pid, signal.SIGKILL)
        proc.wait()


def _clean_group(pgid: int, grace: float) -> None:
    """Stop what the CLI left behind in its group (helpers that outlive it)."""
    if not _signal_group(pgid, signal.SIGTERM):
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _signal_group(pgid, 0):
            return
        time.sleep(_POLL_S)
    _signal_group(pgid, signal.SIGKILL)


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
        f.write(text.encode("utf-8"))
        f.seek(0)
        yield f


@contextlib.contextmanager
def _prompt_file(text: str) -> Iterator[str]:
    """A named 0600 temp file holding the prompt, removed afterwards."""
    fd, path = tempfile.mkstemp(prefix="mm-prompt-", suffix=".md")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8"))
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _read_capped(f: IO[bytes], cap: int) -> tuple[str, bool]:
    f.seek(0)
    data = f.read(cap + 1)
    return data[:cap].decode("utf-8", errors="replace"), len(data) > cap


# --- HTTP ------------------------------------------------------------------------------------


def fetch(call: HttpCall, timeout: float, *, output_cap: int = DEFAULT_OUTPUT_CAP) -> HttpReply:
    """Perform one HTTP request. Never raises; status 0 with `error` when nothing answered."""
    start = time.monotonic()
    deadline = start + timeout
    req = urllib.request.Request(call.url, data=call.body, method=call.method)
    for key, value in call.headers.items():
        req.add_header(key, value)
    try:
        with _opener(call.url).open(req, timeout=timeout) as resp:
            body, cut, late = _read_body(resp, output_cap, deadline)
            return HttpReply(
                status=resp.status,
                body=body,
                headers=dict(resp.headers.items()),
                duration_s=time.monotonic() - start,
                truncated=cut,
                timed_out=late,
            )
    except urllib.error.HTTPError as exc:
        body, cut, _ = _read_body(exc, output_cap, deadline)
        return HttpReply(
            status=exc.code,
            body=body,
            headers=dict(exc.headers.items()) if exc.headers else {},
            duration_s=time.monotonic() - start,
            truncated=cut,
        )
    except (TimeoutError, socket.timeout):
        return HttpReply(status=0, duration_s=time.monotonic() - start, timed_out=True)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return HttpReply(status=0, duration_s=time.monotonic() - start, error=str(reason))


def _read_body(resp: IO[bytes], cap: int, deadline: float) -> tuple[str, bool, bool]:
    chunks: list[bytes] = []
    size = 0
    while size <= cap:
        if time.monotonic() > deadline:
            return b"".join(chunks).decode("utf-8", "replace"), False, True
        try:
            chunk = resp.read(65536)
        except (TimeoutError, socket.timeout):
            return b"".join(chunks).decode("utf-8", "replace"), False, True
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    data = b"".join(chunks)
    return data[:cap].decode("utf-8", "replace"), size > cap, False


def _opener(url: str) -> urllib.request.OpenerDirector:
    """Loopback URLs never go through a proxy from the environment."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if host in ("127.0.0.1", "localhost", "::1") or host.startswith("127."):
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()
