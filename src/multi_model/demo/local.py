"""`--demo local`: the real pipeline against a real model on this machine.

On first use the server and the model are installed into the plugin's data folder
(`demo/llama.py`: one progress line with the download size); each run starts llama.cpp's
server on 127.0.0.1 for this process only and stops it by PID when the process ends (normal
exit, error, Ctrl-C or SIGTERM through `atexit`, and on Ctrl-C or SIGTERM first of all, so
that calls in flight end at once; a killed process is outlived by about a second, as the
server watches its parent). The seats are three OpenAI-compatible endpoints on
that one server (three parallel slots), so the council's every stage asks the real model.

SmolLM2-135M is a toy: its answers are real model output, not good advice, and its ballots
are often invalid (which the council records, as it would for any model).
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
from collections.abc import Mapping
from types import FrameType

from multi_model import runner
from multi_model.config import EndpointSettings, RetrySettings, Settings
from multi_model.demo import Marks, Panel
from multi_model.demo.llama import MODEL, Server, ensure, start, stop
from multi_model.errors import UsageError
from multi_model.paths import data_dir

SEATS: tuple[str, ...] = ("smol-a", "smol-b", "smol-c")
MAX_TOKENS = 256
"""Per answer: about 5 s of generation at this model's speed on 2 cores; ballots fit."""
TIMEOUT_S = 300.0  # a ballot took 210 s with the 2 cores shared by other work
INTERRUPT_GRACE_S = 1.0
_PASS_THROUGH = ("HOME", "TMPDIR", "LANG", "LC_ALL", "MULTI_MODEL_HOME", "XDG_DATA_HOME")

LOCAL = Marks(
    metadata={"demo": "local", "model": "SmolLM2-135M-Instruct (Q4_1), llama.cpp on 127.0.0.1"},
    banner="**DEMO (local model)** every answer is SmolLM2-135M-Instruct running on this "
    "machine: a 135M-parameter toy, real output but not advice.\n\n",
    note="DEMO local: SmolLM2-135M-Instruct (a toy model) served by llama.cpp on 127.0.0.1; "
    "nothing left this machine.",
)


def panel(models: str | None) -> Panel:
    """Install (first use), start the server for this process, and return the panel: the
    three seats, or `models` (specs naming the seats), with settings that know only them.
    Raises UsageError for a spec that is not a seat, LocalModelUnavailable when the server
    cannot be installed or started."""
    _check_seats(models)
    folder = data_dir(os.environ)
    venv, _ = ensure(folder, lambda line: print(line, file=sys.stderr, flush=True))
    server = start(venv, folder / "demo-local" / "server.log", threads=_threads(), parallel=3)
    atexit.register(stop, server)
    _stop_first_on_interrupt(server)
    endpoints = {
        seat: EndpointSettings(base_url=server.base_url, model=MODEL, max_tokens=MAX_TOKENS)
        for seat in SEATS
    }
    settings = Settings(
        endpoints=endpoints,
        timeout=TIMEOUT_S,
        max_tokens=MAX_TOKENS,
        retry=RetrySettings(max_retries=0),  # one local server: a failure is not transient
    )
    return Panel(
        env=local_env(os.environ),
        settings=settings,
        models=models or ",".join(SEATS),
        marks=LOCAL,
    )


def _stop_first_on_interrupt(server: Server) -> None:
    """On Ctrl-C or SIGTERM, stop the server before the interrupt is raised (TERM, KILL after
    INTERRUPT_GRACE_S: llama.cpp finishes the requests in flight before it exits): the calls
    then end at once, their connections closed, instead of running to their timeout. Only
    the main thread can set handlers."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(sig)

        def handler(signum: int, frame: FrameType | None, previous: object = previous) -> None:
            runner.stop_detached([server.pid], INTERRUPT_GRACE_S)
            if callable(previous):
                previous(signum, frame)
            raise KeyboardInterrupt

        signal.signal(sig, handler)


def _check_seats(models: str | None) -> None:
    for spec in (m.strip() for m in (models or "").split(",") if m.strip()):
        if spec.split(":", 1)[0] not in SEATS:
            raise UsageError(
                f"--demo local has only the seats {', '.join(SEATS)} (one local model); "
                f"{spec!r} is not one of them"
            )


def local_env(parent: Mapping[str, str]) -> dict[str, str]:
    """The run's environment: no PATH (no CLI can be found), no proxy settings, no keys;
    HOME, locale and the data-dir variables kept."""
    return {k: parent[k] for k in _PASS_THROUGH if parent.get(k)}


def _threads() -> int:
    """Two threads at most: the demo shares the machine with whatever else runs on it."""
    return max(1, min(2, os.cpu_count() or 1))
