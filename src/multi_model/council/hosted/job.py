"""The council as a kind of background job (`mm jobs`): a run of `mm council start` is a job
whose id is the run id and whose folder is the run directory. Its outcome is the run's own
record (a result: done; a cancel mark; a quorum failure: failed). A stage worker that was
killed leaves a run that continues (any council step, or for a panel of CLIs
`mm jobs status ID`, restarts the worker for the seats left), not a failed job.

`register()` makes `multi_model.jobs` handle council rows; call it before using Jobs on them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from multi_model import jobs
from multi_model.council.hosted import machine
from multi_model.council.hosted.rundir import Run
from multi_model.council.store import RunStore

ENDINGS = (
    (RunStore.RESULT, "done"),
    (RunStore.CANCELLED, "cancelled"),
    (RunStore.FAILED, "failed"),
)
"""A run's own record of how it ended, in the order they are believed."""


def outcome(root: Path) -> jobs.Outcome:
    """How the run ended, or (still running) the stage it has reached; reads only."""
    store = RunStore(root)
    for name, status in ENDINGS:
        try:
            at = store.path(name).stat().st_mtime
            data = json.loads(store.path(name).read_text())
        except (OSError, ValueError):
            continue
        if status == "done":
            return jobs.Outcome(status, summary=_summary(data), at=at)
        return jobs.Outcome(status, error=str(data.get("error", status)), at=at)
    opened = (store.read_json(RunStore.PLAN) or {}).get("opened", {})
    return jobs.Outcome(
        jobs.ACTIVE, summary=f"stage {max(opened, key=opened.get, default='answer')}"
    )


def _summary(result: Mapping[str, Any]) -> str:
    answers = result.get("answers")
    if answers is None:  # a result written before the records were renamed
        answers = result.get("stage1_responses") or []
    ok = sum(1 for a in answers if a.get("status") == "ok")
    chair = result.get("chairman_model")
    end = f"synthesis by {chair}" if result.get("stage3_synthesis") else "no synthesis"
    return f"{ok} of {len(answers)} answered; {end}"


def joinable(root: Path) -> bool:
    """Only a run still going is joined: not one that ended, seen or not."""
    return not any(RunStore(root).path(name).exists() for name, _ in ENDINGS)


def cancel(root: Path, grace: float) -> None:
    machine.cancel(Run(root), grace)


def result(root: Path) -> Any:
    path = RunStore(root).path(RunStore.RESULT)
    return json.loads(path.read_text()) if path.exists() else None


KIND = jobs.JobKind(
    outcome=outcome, joinable=joinable, carry_on=machine.carry_on, cancel=cancel, result=result
)


def register() -> None:
    """Let `multi_model.jobs` handle council jobs (idempotent)."""
    jobs.register_kind(machine.JOB_KIND, KIND)
