"""The launcher's private environment installs only files whose sha256 the lock pins
(--require-hashes, pip and uv alike): a swapped wheel is refused."""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests.test_launcher import fake_uv, launch, plugin  # noqa: F401 - `plugin`: a fixture

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "scripts" / "requirements.lock"
MCP_LOCK = ROOT / "scripts" / "requirements-mcp.lock"
PIN = re.compile(r"^([A-Za-z0-9._-]+)==(\S+)")


def entries(text: str) -> list[str]:
    """One string per requirement: continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    return [line for line in joined.splitlines() if line.strip() and not line.startswith("#")]


def test_every_pin_carries_sha256_hashes() -> None:
    found = entries(LOCK.read_text())
    names = {PIN.match(e).group(1).lower() for e in found}  # type: ignore[union-attr]
    assert {
        "pydantic",
        "jsonschema",
        "pathspec",
        "detect-secrets",
        "pyyaml",
        "requests",
        "regex",
        "tomli",
    } <= names
    for entry in found:
        assert PIN.match(entry), entry
        assert re.findall(r"--hash=sha256:[0-9a-f]{64}\b", entry), entry


def pinned(lock: Path) -> dict[str, str]:
    """name -> its whole entry (version, marker and hashes, in the lock's order)."""
    found = entries(lock.read_text())
    return {PIN.match(e).group(1).lower(): e for e in found}  # type: ignore[union-attr]


def test_the_mcp_lock_is_the_runtime_lock_plus_the_extra() -> None:
    # the launcher adds the extra's lock to the runtime venv: a shared pin that differed
    # would change the runtime's packages under `mm` on the first `mm mcp`
    runtime, mcp = pinned(LOCK), pinned(MCP_LOCK)
    assert {name: mcp.get(name) for name in runtime} == runtime
    assert {"mcp", "tomlkit", "anyio"} <= mcp.keys() - runtime.keys()
    for entry in mcp.values():
        assert re.findall(r"--hash=sha256:[0-9a-f]{64}\b", entry), entry


def test_a_wrong_hash_in_the_lock_is_refused(plugin: Path, tmp_path: Path) -> None:  # noqa: F811
    lock = plugin / "scripts" / "requirements.lock"
    text = lock.read_text()
    found = re.search(r"^annotated-types==.*?(?=^\S)", text, re.M | re.S)
    assert found
    entry = found.group(0)
    lock.write_text(
        text.replace(entry, re.sub(r"sha256:[0-9a-f]{64}", "sha256:" + "0" * 64, entry))
    )
    assert lock.read_text() != text and "0" * 64 in lock.read_text()
    done = launch(plugin, tmp_path / "data", "--version")
    assert done.returncode == 1
    assert "refused a download whose sha256 is not in requirements.lock" in done.stderr
    assert "Traceback" not in done.stderr


def test_uv_installs_with_require_hashes(plugin: Path, tmp_path: Path) -> None:  # noqa: F811
    bindir, log = fake_uv(tmp_path)
    done = launch(plugin, tmp_path / "data", "--version", path=f"{bindir}:{os.environ['PATH']}")
    assert done.returncode == 0, done.stderr
    install = log.read_text().splitlines()[1].split()
    assert install[:2] == ["pip", "install"] and "--require-hashes" in install
