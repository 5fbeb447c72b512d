"""The house checks as tests: `ruff check`, `ruff format --check` and `mypy --strict`, each
with the settings in pyproject.toml, run over the repository; a failure shows their output."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# what ruff looks at: the package, its tests and the repository's Python scripts
LINTED = ["src", "tests", "hooks", "scripts", "benchmarks"]


def check(tool: str, *args: str) -> None:
    """Run `python -m <tool> <args>` at the repository root; fail with its output unless 0."""
    if importlib.util.find_spec(tool) is None:
        pytest.fail(f"{tool} is not installed: pip install -e '.[test]'")
    # the tools' caches stay in the checkout (gitignored), whatever HOME the fixtures set
    env = {**os.environ, "RUFF_CACHE_DIR": str(ROOT / ".ruff_cache")}
    done = subprocess.run(
        [sys.executable, "-m", tool, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            f"{tool} {' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}"
        )


def test_ruff_check() -> None:
    check("ruff", "check", "--no-fix", "--output-format", "concise", *LINTED)


def test_ruff_format() -> None:
    check("ruff", "format", "--check", *LINTED)


def test_mypy_strict() -> None:
    check("mypy", "--cache-dir", str(ROOT / ".mypy_cache"))
