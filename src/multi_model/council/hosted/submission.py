"""A Claude seat's reply, from its output file or `mm council submit`: validated on the spot
and recorded as that seat's answer, ballot or synthesis. Only Claude seats take one."""

from __future__ import annotations

import time
from collections.abc import Mapping

from pydantic import JsonValue

from multi_model.council import stages
from multi_model.council.hosted import replies
from multi_model.council.hosted.capture import read_capture
from multi_model.council.hosted.plan import (
    AGENT_CLI,
    AGENT_PROMPT,
    AGENT_PROVIDER,
    ANSWER_MAX,
    LOSSY_GRACE_S,
    STAGES,
    UNVERIFIED,
    Seat,
    StageName,
    Step,
)
from multi_model.council.hosted.rundir import Run
from multi_model.council.models import Synthesis
from multi_model.council.store import RunStore, slug
from multi_model.errors import UsageError
from multi_model.models import Response


class Rejected(UsageError):
    """A submission that does not validate; `errors` lists every problem (exit 2)."""

    def __init__(self, message: str, errors: list[str]) -> None:
        super().__init__(message + ": " + " | ".join(errors))
        self.errors = errors


def submit(run: Run, seat_id: str, text: str, stage: StageName | None = None) -> Step:
    """A Claude seat's reply, validated now. Raises UsageError for a CLI seat, a seat with no
    open task, or a reply that does not validate (with every error, so it can be fixed)."""
    with run.step_lock():
        seat = agent_seat(run, seat_id)
        stage = stage or open_stage_of(run, seat)
        if stage is None:
            raise UsageError(f"{seat_id} has no open task (see `mm council status`)")
        errors = accept(run, stage, seat, text, via="submit")
        _, out = run.task_paths(stage, seat_id)
        out.unlink(missing_ok=True)  # taken (or kept as raw-N.txt); the repair writes anew
        if errors:
            repair = (
                f"; send the seat the repair prompt {run.task_paths(stage, seat_id)[0]}"
                if stage == "review"
                else ""
            )
            raise Rejected(f"{stage} from {seat_id} rejected" + repair, errors)
        return run.step(stage, True, notes=[f"{seat_id}: {stage} accepted"])


def agent_seat(run: Run, seat_id: str) -> Seat:
    """The seat, if it takes submissions: only Claude seats do."""
    seat = run.plan.seat(seat_id)
    if seat.kind != "agent":
        raise UsageError(
            f"{seat_id} is a CLI seat: its answers come from its own process, "
            "never from a submission"
        )
    return seat


def open_stage_of(run: Run, seat: Seat) -> StageName | None:
    for stage in STAGES:
        if stage not in run.plan.opened:
            return None
        if any(s.id == seat.id and not has for s, has in run.members(stage)):
            return stage
    return None


def accept_file(run: Run, stage: StageName, seat: Seat) -> bool | tuple[int, str] | None:
    """Validate a Claude seat's output file if it wrote one: True when accepted; (attempt,
    note) when it was rejected and a repair task is open; None when there is no file (or
    only a lossy capture, for LOSSY_GRACE_S, while an exact one may still come)."""
    _, out = run.task_paths(stage, seat.id)
    captured = read_capture(run.store, stage, slug(seat.id))
    lossy_young = (
        captured is not None
        and captured.get("exact") is False
        and time.time() - float(str(captured.get("t", 0))) < LOSSY_GRACE_S
    )
    if not out.exists() or lossy_young:
        state = run.store.read_json(run.store.task_state_rel(stage, seat.id)) or {}
        return (int(state.get("attempt", 1)), str(state.get("note", ""))) if state else None
    try:
        with open(out, encoding="utf-8", newline="") as f:  # byte-exact: no newline mapping
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        return _reject(run, stage, seat, [f"cannot read {out}: {exc}"])
    via = "hook" if captured and captured.get("source") else "file"
    errors = accept(run, stage, seat, text, via=via, capture=captured)
    if errors:
        return _reject(run, stage, seat, errors)
    return True


def _reject(run: Run, stage: StageName, seat: Seat, errors: list[str]) -> tuple[int, str]:
    """The output file goes (kept as raw-N.txt for a ballot), the task stays open with why."""
    _, out = run.task_paths(stage, seat.id)
    out.unlink(missing_ok=True)
    state_rel = run.store.task_state_rel(stage, seat.id)
    attempt = int((run.store.read_json(state_rel) or {}).get("attempt", 1))
    note = "rejected: " + "; ".join(errors)
    run.store.write_json(state_rel, {"attempt": attempt, "note": note})
    return attempt, note


def accept(
    run: Run,
    stage: StageName,
    seat: Seat,
    text: str,
    via: str,
    capture: Mapping[str, JsonValue] | None = None,
) -> list[str]:
    """Validate and record one Claude seat's reply; the errors when it is not accepted.
    Claude Code's own notices and frames, empty text and the seat's prompt are never taken
    (the task stays open, no attempt spent). A ballot gets the same single repair as a CLI
    reviewer: the second invalid one is recorded as invalid (that seat's last word)."""
    errors = replies.problems(text, _asked(run, stage, seat))
    if errors:
        return errors
    meta: dict[str, JsonValue] = {
        "seat_kind": "agent",
        "provenance": _provenance(capture),
        "submitted_via": via,
        "agent_model": seat.agent_model,
        **({"capture": {k: v for k, v in capture.items() if k != "t"}} if capture else {}),
    }
    if stage in ("answer", "synthesis") and len(text) > ANSWER_MAX:
        return [f"the reply has {len(text)} characters; at most {ANSWER_MAX} are taken"]
    if stage == "answer":
        took = round(time.time() - run.plan.opened.get(stage, time.time()), 3)
        run.store.write_json(
            run.store.answer_rel(seat.id),
            Response(
                model=seat.id,
                provider=AGENT_PROVIDER,
                text=text,
                status="ok",
                cli_used=AGENT_CLI,
                duration_s=took,
                metadata={**meta, "model_requested": seat.agent_model},
            ),
        )
        return []
    if stage == "synthesis":
        run.store.write_text(RunStore.AGENT_CHAIR_RAW, text)
        run.store.write_json(RunStore.SYNTHESIS, Synthesis(chairman=seat.id, text=text))
        return []
    return _accept_ballot(run, seat, text)


def _asked(run: Run, stage: StageName, seat: Seat) -> tuple[str, ...]:
    """What the seat was sent: its task's prompt file and the Agent call's prompt."""
    prompt_file, _ = run.task_paths(stage, seat.id)
    try:
        prompt = prompt_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        prompt = ""
    return prompt, AGENT_PROMPT.format(prompt_file=prompt_file)


def _provenance(capture: Mapping[str, object] | None) -> str:
    if not capture or not capture.get("source"):
        return UNVERIFIED
    text = (
        f"Claude Code subagent {capture.get('agent_id')}: reply taken from its {capture['source']}"
    )
    return text + (f" ({capture['note']})" if capture.get("note") else "")


def _accept_ballot(run: Run, seat: Seat, text: str) -> list[str]:
    task = run.review_task(seat.id)
    state_rel = run.store.task_state_rel("review", seat.id)
    attempt = int((run.store.read_json(state_rel) or {}).get("attempt", 1))
    run.store.write_text(run.store.review_raw_rel(seat.id, attempt), text)
    record, errors = stages.judge_ballot(task, text, attempt)
    if not errors or attempt >= 2:
        run.store.write_json(run.store.ballot_rel(seat.id), record)
        return []
    run.store.write_text(run.store.task_rels("review", seat.id)[0], task.repair_prompt(errors))
    run.store.write_json(state_rel, {"attempt": 2, "note": "repair: " + "; ".join(errors)})
    return errors


def record_missing(run: Run, stage: StageName, seat: Seat) -> None:
    """The seat's record for this stage says it is missing (past the stage's deadline)."""
    error = "missing: nothing valid before the stage's deadline"
    if stage == "answer":
        run.store.write_json(
            run.store.answer_rel(seat.id),
            Response(
                model=seat.id,
                provider=AGENT_PROVIDER if seat.kind == "agent" else "",
                status="missing",
                error=error,
                cli_used=AGENT_CLI if seat.kind == "agent" else None,
                metadata={"seat_kind": seat.kind},
            ),
        )
    elif stage == "review":
        run.store.write_json(
            run.store.ballot_rel(seat.id),
            run.review_task(seat.id).record(status="missing", error=error),
        )
    else:
        run.store.write_json(RunStore.AGENT_CHAIR_FAILED, {"chairman": seat.id, "error": error})
