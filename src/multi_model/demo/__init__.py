"""The `mm ask --demo` panel: the real pipeline against bundled stand-in executables.

The stand-ins (`bin/standin.py`, stdlib only) speak the output formats of codex, gemini and
cursor-agent and answer with canned, clearly labelled text; no model is asked. `setup` copies
them into `<data_dir>/demo-bin/` with a shebang naming the running interpreter (wheel file
modes and `python3` on PATH do not matter) and returns an environment whose PATH finds them
alone. Only models that route to a stand-in are accepted, so no real CLI or server is ever
started in demo mode. The demo is opt-in: nothing here runs without `--demo`.

Command code never asks "is this the demo?": it gets a `Panel` (env, settings overlay,
models) and its `Marks` (how output says where it came from), from `panel` for the demo or
built plainly for the user's own CLIs, and treats both alike.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from multi_model.config import Settings
from multi_model.detect import availability
from multi_model.errors import UsageError
from multi_model.models import Response
from multi_model.paths import data_dir
from multi_model.routing import route
from multi_model.util.fs import atomic_write

if TYPE_CHECKING:
    from multi_model.council.models import CouncilResult

STANDINS: tuple[str, ...] = ("codex", "gemini", "cursor-agent")
DEFAULT_PANEL = "codex:gpt-5.4,gemini:gemini-3-pro,cursor-agent:grok-4"
_PASS_THROUGH = ("HOME", "TMPDIR", "LANG", "LC_ALL", "MULTI_MODEL_HOME", "XDG_DATA_HOME")


@dataclass(frozen=True)
class Marks:
    """How a run's output says where it came from: `metadata` merged into every answer and
    into a council result, a `banner` above the council report, a first `note` line for the
    routing summary (which is then always printed)."""

    metadata: Mapping[str, object] = field(default_factory=dict)
    banner: str = ""
    note: str = ""

    def label(self, responses: Sequence[Response]) -> list[Response]:
        if not self.metadata:
            return list(responses)
        return [
            r.model_copy(update={"metadata": {**r.metadata, **self.metadata}}) for r in responses
        ]

    def mark(self, result: CouncilResult) -> CouncilResult:
        """The result with its stage-1 answers labelled and `metadata` merged in."""
        if not self.metadata:
            return result
        return result.model_copy(
            update={
                "answers": self.label(result.answers),
                "metadata": {**result.metadata, **self.metadata},
            }
        )


PLAIN = Marks()
DEMO = Marks(
    metadata={"demo": True},
    banner="**DEMO** stand-in executables, no real model.\n\n",
    note="DEMO panel: stand-in executables speaking the real CLIs' formats; "
    "no real model was asked.",
)


def marks(demo: bool) -> Marks:
    """The marks of a run whose record says `demo` (plan.json, a result's metadata)."""
    return DEMO if demo else PLAIN


@dataclass(frozen=True)
class Panel:
    """Where a run's models come from: `env` and `settings` (None: the process's own, the
    config as loaded where it is used), `models` (None: the command's default), `marks`.
    `stand_ins`: the bundled stand-ins bring the CLI seats (a hosted council seats `models`
    first, Claude seats after them, and records it so that its worker uses them too)."""

    env: dict[str, str] | None = None
    settings: Settings | None = None
    models: str | None = None
    marks: Marks = PLAIN
    stand_ins: bool = False


def of_record(stand_ins: bool, models: str) -> Panel:
    """The panel a run recorded: the stand-ins (for `models`, their default when empty), or
    the user's own (env and settings left to the caller)."""
    return panel(models or None) if stand_ins else Panel()


def panel(models: str | None) -> Panel:
    """The demo panel: `setup(models)`, marked DEMO."""
    env, settings, models = setup(models)
    return Panel(env=env, settings=settings, models=models, marks=DEMO, stand_ins=True)


def setup(models: str | None) -> tuple[dict[str, str], Settings, str]:
    """(env, settings, models) for a demo dispatch: stand-ins installed and alone on PATH,
    default settings (user and project config ignored), `models` or the default panel.
    Raises UsageError for a model no stand-in covers, routing errors as `mm ask` does."""
    bindir = install(data_dir(os.environ) / "demo-bin")
    env = demo_env(bindir, os.environ)
    settings = Settings()
    models = models or DEFAULT_PANEL
    _check_covered(models, settings, env)
    return env, settings, models


def label(responses: Sequence[Response]) -> list[Response]:
    """The responses marked `metadata["demo"] = True`, so no one mistakes them for answers."""
    return DEMO.label(responses)


def install(bindir: Path) -> Path:
    """Write the stand-ins (mode 0755) into `bindir`; unchanged files are left alone, so the
    version cache, keyed by size and mtime, stays valid. Raises UsageError when not writable."""
    script = shebang(sys.executable) + _standin_source().split("\n", 1)[1]
    try:
        bindir.mkdir(parents=True, exist_ok=True)
        for name in STANDINS:
            path = bindir / name
            if not path.is_file() or path.read_text(encoding="utf-8") != script:
                # write then rename: a demo running at the same time never sees half a file
                atomic_write(path, script)
            path.chmod(0o755)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot install the demo stand-ins in {bindir}: {exc}") from None
    return bindir


def shebang(python: str) -> str:
    """A first line that starts `python`: a plain shebang, or, for a path a shebang cannot hold
    (spaces, too long), a sh/Python polyglot that re-executes the file with `python`."""
    if python.isprintable() and " " not in python and len(python) < 120:
        return f"#!{python}\n"
    quoted = python.replace("'", "'\"'\"'")
    return f"#!/bin/sh\n''''exec '{quoted}' \"$0\" \"$@\" # '''\n"


def demo_env(bindir: Path, parent: Mapping[str, str]) -> dict[str, str]:
    """PATH = the stand-ins' directory alone (their shebang names the interpreter, so nothing
    else is needed, and no real CLI in /usr/bin or a venv can be found); plus HOME, TMPDIR,
    locale and the data-dir variables (so the version cache lands in the usual place)."""
    env = {k: parent[k] for k in _PASS_THROUGH if parent.get(k)}
    env.setdefault("LANG", "C.UTF-8")
    return {"PATH": str(bindir), **env}


def _standin_source() -> str:
    return (resources.files(__name__) / "bin" / "standin.py").read_text(encoding="utf-8")


def _check_covered(models: str, settings: Settings, env: dict[str, str]) -> None:
    """Every spec must route to a stand-in: a demo must never report `not_installed` for a
    CLI it does not bundle, nor reach a real server (ollama) or the claude CLI."""
    available = availability(settings, env)
    for spec in (m.strip() for m in models.split(",") if m.strip()):
        provider = route(spec, settings, available).provider
        if provider not in STANDINS:
            raise UsageError(
                f"--demo has stand-ins only for {', '.join(STANDINS)}; "
                f"{spec!r} routes to {provider}"
            )
