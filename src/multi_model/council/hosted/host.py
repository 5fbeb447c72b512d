"""`mm council next`: the one step a host runs, again and again, until the council is done.

Each call takes the run as far as it goes (seats' replies accepted, stages opened, CLI
workers started, the result written) and says exactly what to do now:

    agent_calls   the Agent tool calls to make, all in one message, with the arguments as
                  given (each Claude seat's task is handed out once per attempt; one that no
                  agent took up within REISSUE_S is handed out again)
    then          the same step again: this plugin's launcher, by its full path
    done          True only when nothing is pending; the report (or why the run stopped)

The host never copies a reply: the plugin's hooks take each subagent's reply from Claude
Code (hosted/capture.py). While seats are at work the step waits, up to `wait` seconds, so
a host that launched its subagents in the background spends one call per stage, not a poll
loop.
"""

from __future__ import annotations

import time

from multi_model.council.hosted.machine import once
from multi_model.council.hosted.plan import AGENT_PROMPT, POLL_S, Step, Task
from multi_model.council.hosted.rundir import Run
from multi_model.errors import QuorumNotMet

REISSUE_S = 120.0  # a task handed out this long ago that no agent took up is handed out again


def next_step(run: Run, wait: float) -> Step:
    """The run as far as it goes, waiting up to `wait` s while seats are at work; never
    waits when the host has Agent calls to make. A quorum failure ends the run (done, with
    the error)."""
    with run.step_lock():
        until = time.monotonic() + wait
        while True:
            try:
                step = once(run, "done")
            except QuorumNotMet as exc:
                return run.step("done", True, error=str(exc))
            step.calls = [agent_call(t) for t in _to_issue(run, step.tasks)]
            if step.done or step.calls or time.monotonic() >= until:
                return step
            time.sleep(POLL_S)
            run.refuse_if_cancelled()


def agent_call(task: Task) -> dict[str, object]:
    """The exact Agent tool arguments for a task: the plugin's panelist subagent in the
    foreground (so the whole council can stay in the user's turn)."""
    return {
        "subagent_type": task.agent,
        "description": f"{task.seat} {task.stage}"[:60],
        "prompt": AGENT_PROMPT.format(prompt_file=task.prompt_file),
        "run_in_background": False,
    }


def _to_issue(run: Run, tasks: list[Task]) -> list[Task]:
    """The tasks to hand out now: never handed out for this attempt, or handed out long ago
    with no agent on it since (the host did not make the call). Each is marked issued."""
    now = time.time()
    issued = []
    for task in tasks:
        rel = run.store.task_issued_rel(task.stage, task.seat)
        last = run.store.read_json(rel) or {}
        seen = run.store.read_json(run.store.task_capture_rel(task.stage, task.seat)) or {}
        fresh = last.get("attempt") != task.attempt
        stale = now - float(last.get("t", 0)) > REISSUE_S and float(seen.get("t", 0)) < float(
            last.get("t", 0)
        )
        if fresh or stale:
            run.store.write_json(rel, {"attempt": task.attempt, "t": now})
            issued.append(task)
    return issued
