"""Shared fixtures.

- Every test gets its own MULTI_MODEL_HOME, HOME and an environment without real credentials.
- `fake_clis`: a bin dir of fake executables (tests/fakes/fakecli.py) for the runner and the
  adapters, with a scenario per CLI name and a log of every call.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from multi_model import cli

pytest_plugins = ["tests.fakes.httpmock", "tests.fakes.scripted"]

FIXTURES = Path(__file__).parent / "fixtures"
FAKECLI = Path(__file__).parent / "fakes" / "fakecli.py"


def fixture_path(provider: str, name: str) -> Path:
    return FIXTURES / provider / name


def fixture_text(provider: str, name: str) -> str:
    return fixture_path(provider, name).read_text(encoding="utf-8")


class FakeCLIs:
    """Fake executables on a private PATH. `set(name, ...)` writes that CLI's scenario."""

    def __init__(self, root: Path) -> None:
        self.bin = root / "bin"
        self.home = root / "home"
        self.bin.mkdir(parents=True)
        self.home.mkdir(parents=True)
        self._scenarios: dict[str, dict] = {}

    def install(self, *names: str) -> FakeCLIs:
        for name in names:
            path = self.bin / name
            path.write_text(
                f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(FAKECLI.parent)!r})\n"
                "import fakecli\n"
                f"sys.exit(fakecli.main({name!r}, {str(self.bin)!r}, sys.argv[1:]))\n"
            )
            path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return self

    def set(self, name: str, **scenario: object) -> FakeCLIs:
        if name not in ("*",) and not (self.bin / name).exists():
            self.install(name)
        fixture = scenario.pop("fixture", None)
        if fixture:
            provider, file = str(fixture).split("/", 1)
            key = "stderr_file" if file.endswith(".stderr.txt") else "stdout_file"
            scenario[key] = str(fixture_path(provider, file))
        self._scenarios[name] = scenario
        (self.bin / "scenario.json").write_text(json.dumps(self._scenarios))
        return self

    def calls(self, name: str | None = None) -> list[dict]:
        log = self.bin / "calls.jsonl"
        if not log.exists():
            return []
        records = [json.loads(line) for line in log.read_text().splitlines()]
        return [r for r in records if name is None or r["name"] == name]

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "PATH": f"{self.bin}:/usr/bin:/bin",
            "HOME": str(self.home),
            "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
            **extra,
        }


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MULTI_MODEL_HOME", str(tmp_path / "mm-home"))
    for var in list(os.environ):
        if var.endswith(("_API_KEY", "_TOKEN")) or var.startswith(("CLAUDE", "OLLAMA_")):
            monkeypatch.delenv(var, raising=False)


@pytest.fixture
def fake_clis(tmp_path: Path) -> Iterator[FakeCLIs]:
    yield FakeCLIs(tmp_path / "fake")


def run_mm(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of one in-process `mm` run; argparse exits included."""
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
