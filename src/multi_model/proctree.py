"""Which processes a call or a worker left behind, and stopping them (Linux /proc).

Every process the runner starts carries two markers in its environment, which all of its
descendants inherit wherever they go (a new session, a new group, re-parented to init):
CALL_VAR, unique to the call, and SCOPE_VAR, the worker's scope (an ask job, a council
stage) when it runs in one. A call's leftovers are found by its marker, its process group
and their descendants; a dead worker's by its scope, so whoever reads its job next stops
them before anything is asked again. Each process is signalled through a pidfd after its
start time is checked again, so a reused pid is never hit. Without /proc (macOS) nothing is
found here and the runner's process groups are all there is.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import time
from collections.abc import Callable, Mapping

CALL_VAR = "MULTI_MODEL_CALL"
SCOPE_VAR = "MULTI_MODEL_SCOPE"
POLL_S = 0.02
KILL_WAIT_S = 1.0  # after SIGKILL: how long to wait for the tree to be gone

Found = dict[int, int]
"""pid -> start time (clock ticks since boot), of live processes only."""


def scope_token(*parts: str) -> str:
    """The scope of a worker, from what names its work (a job folder, a run and a stage)."""
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()[:24]


def find(marks: Mapping[str, str], group: int | None = None) -> Found:
    """Live processes whose environment holds one of `marks` (VAR: value) or that are in
    process group `group`, with every descendant of those; never this process or its
    ancestors. Empty without /proc."""
    table = _table()
    needles = [f"{var}={value}".encode() for var, value in marks.items()]
    roots = [
        pid
        for pid, (_, pgid, _) in table.items()
        if pgid == group or (needles and _marked(pid, needles))
    ]
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    found: set[int] = set()
    while roots:
        pid = roots.pop()
        if pid not in found:
            found.add(pid)
            roots.extend(children.get(pid, []))
    found -= _ancestry(table)
    return {pid: table[pid][2] for pid in found}


def stop(finder: Callable[[], Found], grace: float, group: int | None = None) -> bool:
    """SIGTERM what `finder` finds, SIGKILL what is left after `grace` s (and whatever it
    forks meanwhile); `group` is signalled too (a host without /proc finds nothing by
    marker). True when nothing was found to begin with. Never raises."""
    left = finder()
    if not left:
        return True
    _signal_group(group, signal.SIGTERM)
    signal_all(left, signal.SIGTERM)
    if not wait_gone(finder, grace):
        _signal_group(group, signal.SIGKILL)
        wait_gone(finder, KILL_WAIT_S, kill=True)
    return False


def _signal_group(group: int | None, sig: int) -> None:
    if group is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, sig)


def wait_gone(finder: Callable[[], Found], seconds: float, kill: bool = False) -> bool:
    """Poll until `finder` finds nothing (`kill`: SIGKILL what it finds at each poll);
    False when `seconds` pass first."""
    deadline = time.monotonic() + seconds
    while left := finder():
        if kill:
            signal_all(left, signal.SIGKILL)
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_S)
    return True


def stop_scope(token: str, grace: float) -> bool:
    """Stop every process of a worker's scope (the worker too, if it still runs)."""
    return stop(lambda: find({SCOPE_VAR: token}), grace)


def signal_all(found: Found, sig: int) -> None:
    for pid, start in found.items():
        _signal(pid, start, sig)


def _signal(pid: int, start: int, sig: int) -> None:
    """Signal `pid` only if it is still the process that started at `start`: the pidfd,
    opened before the check, pins it."""
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):  # gone, or a kernel without pidfds
        fd = None
    try:
        if _stat(pid)[3] != start:
            return
        if fd is None:
            os.kill(pid, sig)
        else:
            signal.pidfd_send_signal(fd, sig)
    except (OSError, IndexError, ValueError):
        pass
    finally:
        if fd is not None:
            os.close(fd)


def _table() -> dict[int, tuple[int, int, int]]:
    """pid -> (ppid, pgid, start time) of every live (not zombie) process."""
    table: dict[int, tuple[int, int, int]] = {}
    try:
        entries = [e.name for e in os.scandir("/proc") if e.name.isdigit()]
    except OSError:
        return table
    for name in entries:
        try:
            state, ppid, pgid, start = _stat(int(name))
        except (OSError, IndexError, ValueError):
            continue
        if state not in ("Z", "X"):
            table[int(name)] = (ppid, pgid, start)
    return table


def _stat(pid: int) -> tuple[str, int, int, int]:
    """(state, ppid, pgid, start time) from /proc/<pid>/stat."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        data = f.read()
    fields = data[data.rfind(b")") + 2 :].split()
    return fields[0].decode(), int(fields[1]), int(fields[2]), int(fields[19])


def _marked(pid: int, needles: list[bytes]) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = f.read().split(b"\0")
    except OSError:  # gone, or another user's
        return False
    return any(n in env for n in needles)


def _ancestry(table: Mapping[int, tuple[int, int, int]]) -> set[int]:
    """This process and its ancestors: never stopped here, whatever they carry."""
    chain, pid = set(), os.getpid()
    while pid > 0 and pid not in chain:
        chain.add(pid)
        pid = table.get(pid, (0, 0, 0))[0]
    return chain
