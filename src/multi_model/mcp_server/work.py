"""Each MCP tool's work, done with the engine as `mm` does it; synchronous (the server runs it
in a thread). Returns JSON data; raises MultiModelError with the CLI's one-line message.

Every ask runs as a background job (jobs.py), a foreground one too: the server waits for it,
so a client's cancel (or its tool-call timeout) stops the job's CLIs as `mm jobs cancel`
does, and nothing outlives the call. Councils are CLI-seat runs of the hosted council
(machine.py), which carry themselves to the result as jobs.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from multi_model import policy
from multi_model.catalog import list_models
from multi_model.commands.review import perform
from multi_model.config import Settings, load_settings
from multi_model.council import command
from multi_model.council.hosted import job as council_job, machine
from multi_model.council.hosted.plan import classify
from multi_model.demo import Panel, panel as demo_panel
from multi_model.detect import detect_all
from multi_model.errors import UsageError
from multi_model.history import parse_since, stats
from multi_model.jobs import ACTIVE, Jobs
from multi_model.mcp_server import tools
from multi_model.routing import chain_of, route_all
from multi_model.store import Store

PUBLIC = ("id", "kind", "status", "created", "finished", "summary", "error")
"""A job row as a tool shows it (its pid and folder are this machine's business)."""
COUNCIL_DEADLINE_S = 900.0


@dataclass(frozen=True)
class Face:
    """What the server was started with: the bundled demo panel (`mm mcp --demo`) or the
    user's CLIs and config."""

    demo: bool = False

    def settings(self) -> Settings:
        return load_settings().settings

    def panel(self, specs: Sequence[str] | None) -> Panel:
        """The demo panel for `specs` (UsageError for one no stand-in covers), else the
        user's (env and settings: this process's own)."""
        joined = ",".join(specs) if specs else None
        if self.demo:
            return demo_panel(joined)
        return Panel(env=dict(os.environ), settings=self.settings(), models=joined)


def start_ask(face: Face, args: tools.Ask) -> tuple[str, bool]:
    """(job id, joined): every spec routed and checked against `[policy]` first, so a Claude
    model without opt-in or a blocked provider is an error before anything starts."""
    panel = face.panel(args.models)
    assert panel.env is not None and panel.settings is not None
    routes = [
        r for spec in args.models for r in route_all(chain_of(spec), panel.settings, panel.env)
    ]
    policy.check(routes, panel.settings, args.timeout, Store.of(os.environ))
    request = {
        "models": list(args.models),
        "timeout": args.timeout,
        "session": args.session,
        "demo": face.demo,
    }
    # a foreground ask is its own job; a background one joins an identical running one
    return Jobs(os.environ).submit(
        "ask", request, args.prompt, fresh=not args.background or bool(args.session)
    )


def status(job_id: str) -> dict[str, Any]:
    """The job's public row, after carrying a council as far as it goes."""
    row = Jobs(os.environ).refresh(job_id)
    return {k: row[k] for k in PUBLIC}


def result(job_id: str) -> Any:
    """The finished job's result (a running one: its status); UsageError for a job that
    ended without one."""
    jobs = Jobs(os.environ)
    row = jobs.refresh(job_id)
    if row["status"] == ACTIVE:
        return {"job": job_id, "status": ACTIVE, "summary": row["summary"]}
    found = jobs.result(job_id)
    if found is None:
        raise UsageError(f"job {job_id} {row['status']}: {row['error'] or 'no result'}")
    return found


def cancel(job_id: str) -> dict[str, str]:
    return {"job": job_id, "status": Jobs(os.environ).cancel(job_id)}


def council_start(face: Face, args: tools.CouncilStart) -> dict[str, Any]:
    """A council of CLI seats as a job; its id is the run id."""
    panel = face.panel(args.models)
    assert panel.env is not None and panel.settings is not None
    specs = command.split(panel.models) or command.default_panel(panel.settings, panel.env)
    seats = classify(
        specs, panel.settings, panel.env, allow_cursor_claude=False, allow_claude_cli=False
    )
    agents = [s.id for s in seats if s.kind != "cli"]
    if agents:
        raise UsageError(
            f"{', '.join(agents)}: a Claude seat needs Claude Code's Agent tool; "
            "council_start runs CLI seats only (in Claude Code: /multi-model:council)"
        )
    timeout = args.timeout or panel.settings.timeout
    join = {"panel": specs, "chairman": args.chairman, "demo": face.demo, "timeout": timeout}
    step = machine.start(
        args.question,
        specs,
        args.chairman,
        settings=panel.settings,
        env=panel.env,
        seed=secrets.randbelow(2**31),
        min_answers=2,
        timeout=timeout,
        deadline_s=COUNCIL_DEADLINE_S,
        demo=face.demo,
        join={**join, "cwd": os.getcwd()},
    )
    return {"job": Path(step.run_dir).name, "joined": step.joined, "status": ACTIVE}


def detect(face: Face, args: tools.Detect) -> list[dict[str, object]]:
    return [i.as_dict() for i in detect_all(face.settings(), check_auth=args.check_auth)]


def models(face: Face, args: tools.Models) -> list[dict[str, object]]:
    return [x.as_dict() for x in list_models(face.settings(), os.environ, args.provider)]


def review(face: Face, args: tools.Review) -> dict[str, Any]:
    """`mm review`: the same deny list, redaction and audit log."""
    specs = ",".join(args.models) if args.models else None
    return perform(list(args.paths), specs, args.timeout, [], dict(os.environ)).model_dump(
        mode="json"
    )


def history(face: Face, args: tools.History) -> list[dict[str, Any]]:
    since = parse_since(args.since)
    store = Store.of(os.environ)
    return stats(store, since, args.provider) if store.path.exists() else []


def register() -> None:
    """The job kinds the tools read (a council run is a job)."""
    council_job.register()
