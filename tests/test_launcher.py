"""scripts/mm, the plugin's stdlib launcher: it builds a private environment of the pinned
dependencies on first use (uv when present, else venv + pip), reuses it, rebuilds it when
the pins change, and fails with one actionable line when it cannot.

Each test runs a copy of the launcher and the package (an installed plugin is such a copy)
with its own data dir, as a real subprocess; the builds use the package registry, like a
user's first run."""

from __future__ import annotations

import os
import runpy
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
INSTALLING = "installing pinned dependencies"


@pytest.fixture
def plugin(tmp_path: Path) -> Path:
    copy = tmp_path / "plugin"
    shutil.copytree(ROOT / "scripts", copy / "scripts")
    shutil.copytree(ROOT / "src", copy / "src", ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def launch(
    plugin: Path, data: Path, *args: str, path: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": path or os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(data)),
        "CLAUDE_PLUGIN_DATA": str(data),
        "LANG": "C.UTF-8",
        **env,
    }
    return subprocess.run(
        [sys.executable, str(plugin / "scripts" / "mm"), *args],
        env=base,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_first_run_builds_then_reuses_then_rebuilds_on_new_pins(
    plugin: Path, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    first = launch(plugin, data, "--version")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("multi-model ")
    assert first.stderr.count("\n") == 1 and INSTALLING in first.stderr
    stamp = data / "venv" / ".mm-stamp"
    built = stamp.stat().st_mtime_ns

    again = launch(plugin, data, "--version")
    assert (again.returncode, again.stderr) == (0, "")
    assert stamp.stat().st_mtime_ns == built

    lock = plugin / "scripts" / "requirements.lock"
    lock.write_text(lock.read_text() + "# a pin changed\n")
    rebuilt = launch(plugin, data, "--version")
    assert rebuilt.returncode == 0 and INSTALLING in rebuilt.stderr
    assert stamp.stat().st_mtime_ns != built


def test_unreachable_registry_is_one_actionable_message(plugin: Path, tmp_path: Path) -> None:
    done = launch(
        plugin,
        tmp_path / "data",
        "--version",
        PIP_INDEX_URL="http://127.0.0.1:9/simple",
        PIP_RETRIES="0",
        PIP_TIMEOUT="2",
        PIP_NO_CACHE_DIR="1",
        PIP_FIND_LINKS="",
        PIP_CONFIG_FILE=os.devnull,
    )
    assert done.returncode == 1
    assert "is the package registry reachable?" in done.stderr
    assert "Traceback" not in done.stderr


def fake_uv(tmp_path: Path) -> tuple[Path, Path]:
    """A stand-in `uv` that logs its argv and does the same job with venv and pip (passing
    --require-hashes on when given): (its folder, its log)."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "uv.log"
    uv = bindir / "uv"
    uv.write_text(f"""#!{sys.executable}
import subprocess, sys
open({str(log)!r}, "a").write(" ".join(sys.argv[1:]) + "\\n")
args = sys.argv[1:]
if args[0] == "venv":
    sys.exit(subprocess.call([args[args.index("--python") + 1], "-m", "venv", args[-1]]))
python = args[args.index("--python") + 1]
hashes = ["--require-hashes"] if "--require-hashes" in args else []
sys.exit(subprocess.call([python, "-m", "pip", "install", "--quiet", *hashes, "-r", args[-1]]))
""")
    uv.chmod(0o755)
    return bindir, log


def test_uv_is_used_when_present(plugin: Path, tmp_path: Path) -> None:
    bindir, log = fake_uv(tmp_path)
    done = launch(plugin, tmp_path / "data", "--version", path=f"{bindir}:{os.environ['PATH']}")
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines()
    assert [c.split()[:2] for c in calls] == [["venv", "--quiet"], ["pip", "install"]]


def test_old_python_is_refused_with_a_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "version_info", (3, 9, 18, "final", 0))
    monkeypatch.setattr(sys, "argv", ["mm", "--version"])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(ROOT / "scripts" / "mm"), run_name="__main__")
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "needs Python 3.10 or newer" in err and err.count("\n") == 1


def test_ctrl_c_mid_build_is_one_line_130_and_the_next_run_rebuilds(
    plugin: Path, tmp_path: Path
) -> None:
    """Ctrl-C on a terminal signals the whole foreground process group (launcher and pip):
    the test starts the launcher in its own group and signals that group the same way."""
    data = tmp_path / "data"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(data)),
        "CLAUDE_PLUGIN_DATA": str(data),
        "LANG": "C.UTF-8",
    }
    proc = subprocess.Popen(
        [sys.executable, str(plugin / "scripts" / "mm"), "--version"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not (data / "venv" / "bin" / "python").exists():  # the build is under way
            assert proc.poll() is None and time.monotonic() < deadline, "the build ended early"
            time.sleep(0.05)
        time.sleep(0.3)
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert err.splitlines() == [
        err.splitlines()[0],
        "multi-model: interrupted while installing dependencies; the next run installs them afresh",
    ]
    assert INSTALLING in err.splitlines()[0] and out == ""
    assert not (data / "venv").exists()

    again = launch(plugin, data, "--version")
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("multi-model ") and INSTALLING in again.stderr
