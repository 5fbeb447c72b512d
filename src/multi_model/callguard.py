"""The watchdog of one CLI call made inside a worker; stdlib only (runs as `python -I -S`).

The runner starts it before the call, in its own session, with a pipe on stdin whose write
end only the worker holds, and writes the call's process group to it once the CLI runs.
When the call is over the runner kills this watchdog. End of file comes first only when the
worker died (SIGKILL included: the kernel closes its end), so nobody is left to stop the
call; then, or when the call's time-out plus a grace passes, this stops the call's tree:
every process carrying its marker, the group, and their descendants (proctree.py)."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import select
import signal
import sys
import time
from types import ModuleType

STOP_GRACE_S = 0.5


def main(argv: list[str]) -> int:
    """argv: call id, seconds after which the call is stopped even if its worker lives."""
    call_id, limit = argv[1], float(argv[2])
    group = _await_worker(time.monotonic() + limit)
    tree = _load_proctree()
    tree.stop(lambda: tree.find({tree.CALL_VAR: call_id}, group=group), STOP_GRACE_S)
    if group and not os.path.isdir("/proc/self"):  # no /proc (macOS): the group is all we see
        _signal_group(group, signal.SIGTERM)
        time.sleep(STOP_GRACE_S)
        _signal_group(group, signal.SIGKILL)
    return 0


def _await_worker(deadline: float) -> int | None:
    """Block until the worker's end of stdin closes or `deadline` passes; the call's process
    group if the worker sent it."""
    data = b""
    while (left := deadline - time.monotonic()) > 0:
        if select.select([0], [], [], min(left, 3600.0))[0]:  # inf: a time-out of "never"
            chunk = os.read(0, 64)
            if not chunk:
                break
            data += chunk
    digits = data.split(b"\n", 1)[0]
    return int(digits) if digits.isdigit() else None


def _load_proctree() -> ModuleType:
    """proctree.py beside this file, without the package (its __init__ needs the venv)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "proctree.py")
    spec = importlib.util.spec_from_file_location("mm_proctree", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pgid, sig)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
