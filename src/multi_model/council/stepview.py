"""How `mm council <step>` shows a step to the host: Markdown written for Claude to act on,
or JSON for scripts."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from pathlib import Path
from typing import TextIO, cast

from multi_model import demo
from multi_model.council.hosted.plan import Step
from multi_model.council.models import CouncilResult
from multi_model.council.report import render_report
from multi_model.council.store import RunStore
from multi_model.paths import LAUNCHER


def launcher() -> str:
    """How the host runs `mm`: this plugin's launcher by its full path (never a bare `mm`)."""
    path = os.environ.get("MM_LAUNCHER") or sys.argv[0]
    found = path if os.sep in path else shutil.which(path)
    if found:
        return os.path.abspath(found)
    return str(LAUNCHER) if LAUNCHER.is_file() else "mm"


def show_host(step: Step, fmt: str, out: TextIO) -> None:
    """What the host does now, as JSON (`agent_calls`, `then`, `done`, the report) or as
    Markdown for a person."""
    if not step.done:
        step.then = shlex.join([launcher(), "council", "next", step.run_dir, "--format", fmt])
    data = step.for_host()
    if step.result is not None:
        store = RunStore(Path(step.run_dir))
        data.update(
            report=_report(step),
            report_file=str(store.path(RunStore.REPORT)),
            report_html=str(store.path(RunStore.REPORT_HTML)),
            result_file=str(store.path(RunStore.RESULT)),
        )
    if fmt == "json":
        out.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        out.write(render_host(data))


def _report(step: Step) -> str:
    assert step.result is not None
    return report(step.result)


def report(result: CouncilResult) -> str:
    """The Markdown report for the host to relay, under the banner its run's marks carry (the
    demo's); the answers themselves are in `report_file` and `report_html`."""
    banner = demo.marks(bool(result.metadata.get("demo"))).banner
    return banner + render_report(result, answers=False)


def render_host(data: dict[str, object]) -> str:
    lines = [
        f"Council run {data['run_id']}: stage {data['stage']}"
        + (" (done)" if data["done"] else ""),
        f"Run directory: {data['run_dir']}",
        "",
    ]
    calls = cast("list[object]", data.get("agent_calls") or [])
    if calls:
        lines.append("Make these Agent calls, all in one message, with exactly these arguments:")
        lines += [f"- {json.dumps(c, ensure_ascii=False)}" for c in calls]
        lines.append("")
    for key, title in (("waiting", "Waiting for"), ("notes", "Notes")):
        if data.get(key):
            lines += [f"{title}:", *(f"- {x}" for x in cast("list[str]", data[key])), ""]
    if data.get("error"):
        lines += [f"Stopped: {data['error']}", ""]
    if data.get("report"):
        lines += [str(data["report"]).rstrip("\n"), "", f"Report file: {data['report_file']}"]
        lines.append(f"HTML report (opens in a browser): {data['report_html']}")
    elif data.get("then"):
        lines.append(f"Then run: {data['then']}")
    return "\n".join(lines).rstrip("\n") + "\n"


def show(step: Step, fmt: str, out: TextIO) -> None:
    if fmt == "json":
        data = step.as_dict()
        if step.result is not None:
            data["result"] = step.result.to_dict()
        out.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    if step.result is not None:
        out.write(report(step.result))
        return
    out.write(render_step(step))


def render_step(step: Step) -> str:
    state = "finished" if step.stage == "done" else "open" if step.done else "not finished"
    lines = [
        f"Council run {step.run_id}: stage {step.stage} ({state})"
        + (" - joined: the same council was started moments ago" if step.joined else ""),
        f"Run directory: {step.run_dir}",
        f"Job: {step.run_id} (`mm jobs status {step.run_id}`, `mm jobs cancel {step.run_id}`)",
        "",
    ]
    if step.tasks:
        lines.append(
            "Claude seats to run now with the Agent tool, one call per seat, all in one message:"
        )
        for n, t in enumerate(step.tasks, 1):
            lines += [
                f"{n}. seat {t.seat} ({t.stage}"
                + (f", attempt {t.attempt}" if t.attempt > 1 else "")
                + f"): subagent_type {t.agent}",
                f"   prompt file: {t.prompt_file}",
                f"   then submit its final message: mm council submit {step.run_id} "
                f"--seat {t.seat} --file - (or write it to {t.output_file})",
                f"   deadline: in {t.as_dict()['deadline_in_s']} s",
            ]
            if t.note:
                lines.append(f"   note: {t.note}")
        lines += [
            "",
            'Agent prompt: "Read the prompt file <prompt file> and do what it asks."'
            " Do not answer for a seat yourself.",
            "",
        ]
    if step.waiting:
        lines += ["Waiting for:", *(f"- {w}" for w in step.waiting), ""]
    if step.notes:
        lines += ["Notes:", *(f"- {n}" for n in step.notes), ""]
    if step.next:
        lines.append("Next: " + ("after the tasks above, " if step.tasks else "") + step.next)
    elif not step.done:
        lines.append("Next: run the same step again (it continues where it stopped).")
    return "\n".join(lines).rstrip("\n") + "\n"
