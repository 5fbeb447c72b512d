"""Fixtures of the real-server tests: llama.cpp's server with SmolLM2-135M, and the LiteLLM
proxy in front of it, each started once per session on 127.0.0.1 and stopped by PID.

Missing installs (see tests/local/servers.py) skip the tests with the command to run, and
fail them in CI (CI set), where scripts/run-tests installs them first. What the servers cost
(install, start, the tests' own time) is printed at the end of the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from multi_model.demo import llama
from tests.contract.conftest import mock, shared_cache  # noqa: F401 - test_mcp_named's
from tests.local import servers

COSTS: dict[str, float] = {}


def require(what: str, present: bool) -> None:
    if present:
        return
    message = f"{what} is not installed in {servers.cache_dir()}; run python -m tests.local.install"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[llama.Server]:
    venv = llama.installed(servers.cache_dir())
    require("llama.cpp + SmolLM2", venv is not None)
    assert venv is not None
    log = tmp_path_factory.mktemp("llama") / "server.log"
    server = llama.start(venv, log, threads=2, parallel=3, lifetime=servers.LIFETIME_S)
    COSTS["llama.cpp start"] = server.start_s
    try:
        yield server
    finally:
        llama.stop(server)


@pytest.fixture(scope="session")
def litellm_proxy(
    llama_server: llama.Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[servers.Proxy]:
    require(servers.LITELLM, servers.litellm_installed() is not None)
    proc, proxy = servers.start_litellm(llama_server, tmp_path_factory.mktemp("litellm"))
    COSTS["LiteLLM start"] = proxy.start_s
    try:
        yield proxy
    finally:
        servers.stop(proc)


@pytest.fixture
def llama_venv() -> Path:
    venv = llama.installed(servers.cache_dir())
    require("llama.cpp + SmolLM2", venv is not None)
    assert venv is not None
    return venv


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.nodeid.startswith("tests/local/"):
        COSTS["tests/local in all"] = COSTS.get("tests/local in all", 0.0) + report.duration


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not COSTS:
        return
    parts = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in COSTS.items())
    terminalreporter.write_line(f"real model servers: {parts} (setup, calls and teardown)")
