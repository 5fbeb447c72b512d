"""Past council runs, one-shot and hosted alike (both live under <data dir>/runs): find one by id
or path, load its result, list them all. A run directory is untrusted input: a result.json that
is a symlink, too big, not JSON or not a council result is a one-line UsageError, never a
traceback, and a run id is a plain name (no path, no `..`)."""

from __future__ import annotations

import json
import os
import re
import stat
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from multi_model.council import view
from multi_model.council.hosted.rundir import runs_dir
from multi_model.council.models import CouncilResult
from multi_model.council.store import RunStore
from multi_model.errors import UsageError

RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
MAX_RESULT_BYTES = 64 * 1024 * 1024
QUESTION_CHARS = 60


@dataclass(frozen=True)
class Summary:
    run_id: str
    date: str
    question: str
    winner: str | None
    seats: list[str]
    state: str  # done, no synthesis, failed, cancelled, running, unreadable: <why>


def locate(ref: str, env: Mapping[str, str]) -> Path:
    """The run directory `ref` names: a path (it has a `/`) or an id under the runs folder,
    which must be a real directory there, not a symlink out of it."""
    if os.sep in ref:
        path = Path(ref)
    elif not RUN_ID.fullmatch(ref):
        raise UsageError(f"not a run id: {ref!r} (see `mm council list`)")
    else:
        path = runs_dir(env) / ref
        if path.is_symlink():
            raise UsageError(f"council run {ref} is a symlink; refusing to follow it")
    if not path.is_dir():
        raise UsageError(f"no council run at {ref} (see `mm council list`)")
    return path


def load(path: Path) -> CouncilResult:
    """The run's result, its `run_dir` set to where it is now. UsageError (one line) when
    the run has none yet, ended without one, or its result.json cannot be trusted."""
    store = RunStore(path)
    target = store.path(RunStore.RESULT)
    if not target.exists() and not target.is_symlink():
        for rel, why in ((RunStore.FAILED, "failed"), (RunStore.CANCELLED, "was cancelled")):
            if store.path(rel).exists():
                raise UsageError(f"council run {path.name} {why} without a result ({rel})")
        raise UsageError(f"council run {path.name} has no result yet (`mm council status`)")
    result = _parse(_read(target), target)
    result.metadata["run_dir"] = str(path)
    return result


def _read(target: Path) -> bytes:
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        why = "a symlink" if target.is_symlink() else exc.strerror
        raise UsageError(f"cannot read {target}: {why}") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(f"cannot read {target}: not a regular file")
        if info.st_size > MAX_RESULT_BYTES:
            raise UsageError(f"cannot read {target}: {info.st_size} bytes is too big")
        return f.read(MAX_RESULT_BYTES + 1)


def _parse(raw: bytes, target: Path) -> CouncilResult:
    try:
        return CouncilResult.model_validate(json.loads(raw.decode("utf-8")))
    except (UnicodeDecodeError, ValueError) as exc:
        first = str(exc).splitlines()[0] if not isinstance(exc, ValidationError) else _first(exc)
        raise UsageError(f"{target} is not a council result: {first}") from None


def _first(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(x) for x in err["loc"]) or "(top)"
    return f"{where}: {err['msg']} ({exc.error_count()} errors)"


def summaries(env: Mapping[str, str]) -> list[Summary]:
    """Every run under the runs folder, newest first; a bad one is listed with why."""
    root = runs_dir(env)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and not p.is_symlink()]
    return [summary(p) for p in sorted(found, key=lambda p: p.name, reverse=True)]


def summary(path: Path) -> Summary:
    date = _date(path)
    try:
        result = load(path)
    except UsageError as exc:
        store = RunStore(path)
        safe = not store.path(RunStore.RUN).is_symlink()
        question = (store.read_json(RunStore.RUN) if safe else None) or {}
        state = _state(path, str(exc))
        return Summary(path.name, date, _short(question.get("question")), None, [], state)
    ranked = [r for r in view.standings(result) if r.votes]
    return Summary(
        run_id=path.name,
        date=date,
        question=_short(result.question),
        winner=ranked[0].seat if ranked else None,
        seats=[a.model for a in view.answers(result)],
        state="done" if view.synthesis(result) else "no synthesis",
    )


def _state(path: Path, error: str) -> str:
    store = RunStore(path)
    if store.path(RunStore.FAILED).exists():
        return "failed"
    if store.path(RunStore.CANCELLED).exists():
        return "cancelled"
    if "no result yet" in error:
        return "unfinished"
    return "unreadable: " + error


def _date(path: Path) -> str:
    stamp = path.name[:15]
    try:
        return time.strftime("%Y-%m-%d %H:%M", time.strptime(stamp, "%Y%m%d-%H%M%S"))
    except ValueError:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))


def _short(question: object) -> str:
    text = " ".join(str(question or "").split())
    return text if len(text) <= QUESTION_CHARS else text[: QUESTION_CHARS - 1] + "…"
