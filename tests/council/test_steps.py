"""`mm council start | submit | rank | synthesize | result | status`: the council in steps,
with Claude seats played by the test the way Claude Code's Agent tool plays them (it writes
the task's output file), and the CLI seats run by the real background worker process.

The CLI seats are the demo stand-ins (they write real ballots and syntheses) or, for the
fault cases, the fake CLIs of tests/fakes; both are real executables started by the worker."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import threading
import time
from pathlib import Path

import jsonschema
import pytest

from multi_model import cli
from multi_model.council.hosted import machine
from multi_model.council.hosted.rundir import Run
from multi_model.council.store import RunStore
from multi_model.jobs import Jobs
from multi_model.structured import NO_JSON
from tests.conftest import run_mm
from tests.test_jobs import wait_status

SCHEMA = json.loads(
    (Path(__file__).parents[2] / "schemas" / "council-result.schema.json").read_text()
)
PANEL = "codex:gpt-5.4,gemini:gemini-3-pro,claude:opus"
OK = "codex/ok.exec-json.jsonl"


def mm(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = cli.main(["council", *argv])
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def mm_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code, out, err = mm(capsys, *argv, "--format", "json")
    assert "Traceback" not in err
    return code, json.loads(out) if out.strip() else {}


def labels_of(prompt_file: str) -> list[str]:
    return sorted(
        set(re.findall(r"<<<BEGIN \S+ (Response [A-Z]+)>>>", Path(prompt_file).read_text()))
    )


def token_of(prompt_file: str) -> str:
    """The review task's ballot token (its line comes before the answers)."""
    return re.search(r"`token`: exactly `([0-9a-f]+)`", Path(prompt_file).read_text()).group(1)


def ballot(labels: list[str], token: str) -> str:
    return json.dumps(
        {"token": token, "ranking": labels, "critiques": {lb: f"Fine: {lb}." for lb in labels}}
    )


def write(task: dict, text: str) -> None:
    """What the Agent tool's subagent does: write the reply to the task's output file."""
    Path(task["output_file"]).write_text(text)


def the_task(step: dict) -> dict:
    """The one Claude seat's task of a step: from `tasks` (rank, synthesize), or from the
    Agent call that `start`/`next` hand the host (its prompt names the prompt file)."""
    if "tasks" in step:
        [task] = step["tasks"]
        return task
    [call] = step["agent_calls"]
    prompt_file = Path(re.search(r"prompt file (\S+) and", call["prompt"]).group(1))
    root, stage, seat = RunStore.task_of_prompt(prompt_file)
    return {
        "prompt_file": str(prompt_file),
        "stage": stage,
        "agent": call["subagent_type"],
        "output_file": str(root / RunStore.task_rels(stage, seat)[1]),
        "seat_slug": seat,
    }


@pytest.fixture
def fakes(fake_clis, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", f"{fake_clis.bin}:/usr/bin:/bin")
    monkeypatch.setenv("HOME", str(fake_clis.home))
    return fake_clis


def stop_worker(run_dir: str, stage: str) -> None:
    pid = int((Path(run_dir) / "workers" / f"{stage}.pid").read_text())
    os.killpg(pid, signal.SIGKILL)
    run = Run(Path(run_dir))
    deadline = time.monotonic() + 10
    while run.worker_alive(stage):  # type: ignore[arg-type]
        assert time.monotonic() < deadline, "the killed worker still holds its lock"
        time.sleep(0.05)


# --- the whole flow -------------------------------------------------------------------------


def test_demo_council_with_a_claude_seat_end_to_end(capsys) -> None:  # type: ignore[no-untyped-def]
    code, step = mm_json(
        capsys, "start", "--demo", "--panel", PANEL, "--prompt", "Tabs or spaces?", "--seed", "5"
    )
    assert code == 0 and step["stage"] == "answer"
    task = the_task(step)
    assert (task["seat_slug"], task["stage"]) == ("claude_opus", "answer")
    assert Path(task["prompt_file"]).read_text() == "Tabs or spaces?"
    assert step["then"].endswith(f" council next {step['run_dir']} --format json")
    assert task["agent"] == "multi-model:panelist-opus"
    write(task, "Spaces, four of them (PEP 8).")

    code, step = mm_json(capsys, "rank", "--wait", "60")
    assert code == 0 and step["stage"] == "review"
    task = the_task(step)
    prompt = Path(task["prompt_file"]).read_text()
    assert "claude:opus" not in prompt and "codex:gpt-5.4" not in prompt  # blind: labels only
    write(task, ballot(labels_of(task["prompt_file"]), token_of(task["prompt_file"])))

    code, step = mm_json(capsys, "synthesize", "--wait", "60")
    assert code == 0 and step["stage"] == "synthesis"
    if step["tasks"]:  # the Claude seat ranked first: it chairs
        write(the_task(step), "Spaces. [synthesis by the Claude seat]")

    code, out, err = mm(capsys, "result", "--wait", "60", "--output", "result.json")
    assert code == 0, err
    assert out.startswith("**DEMO**") and "## Synthesis (chairman:" in out
    assert "claude:opus: ok (Claude Code subagent, opus, no process record" in out
    assert re.search(r"codex:gpt-5.4: ok \(codex 0.0.0-demo, exit 0", out)
    result = json.loads(Path("result.json").read_text())
    jsonschema.validate(result, SCHEMA)
    claude = next(r for r in result["answers"] if r["model"] == "claude:opus")
    assert claude["provider"] == "agent" and claude["exit_code"] is None
    assert claude["metadata"]["provenance"].startswith("Claude Code subagent")
    assert [b["status"] for b in result["ballots"]] == ["valid"] * 3
    assert result["metadata"]["seat_kinds"] == {
        "codex:gpt-5.4": "cli",
        "gemini:gemini-3-pro": "cli",
        "claude:opus": "agent",
    }


@pytest.fixture
def chdir_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


pytestmark = pytest.mark.usefixtures("chdir_tmp")


def start_demo(capsys, *extra: str, panel: str = PANEL) -> dict:  # type: ignore[no-untyped-def]
    code, step = mm_json(
        capsys, "start", "--demo", "--panel", panel, "--prompt", "Q?", "--seed", "9", *extra
    )
    assert code == 0
    return step


def through_review(capsys) -> dict:  # type: ignore[no-untyped-def]
    write(the_task(start_demo(capsys, "--chairman", "claude:opus")), "My answer.")
    code, step = mm_json(capsys, "rank", "--wait", "60")
    assert code == 0
    return step


# --- submit: validated on the spot ----------------------------------------------------------


def test_submit_rejects_an_empty_answer_and_a_cli_seat(capsys) -> None:  # type: ignore[no-untyped-def]
    step = start_demo(capsys)
    write(the_task(step), "   \n")
    code, _, err = mm(capsys, "submit", "--seat", "claude:opus")
    assert code == 2 and "the reply is empty" in err and err.count("\n") == 1
    code, _, err = mm(capsys, "submit", "--seat", "codex:gpt-5.4", "--file", "-")
    assert code == 2 and "CLI seat" in err
    code, _, err = mm(capsys, "submit", "--seat", "nobody")
    assert code == 2 and "no seat 'nobody'" in err


LAUNCHED = (
    "Async agent launched successfully.\nagentId: a1 (internal ID - do not mention "
    "to user.)\nThe agent is working in the background. You will be notified "
    "automatically when it completes."
)
HANDBACK = (
    "[Subagent hand-back] The text below is the final report of the subagent.\n"
    "  Spaces.\nagentId: a1\n<usage>total_tokens: 10</usage>"
)


def test_platform_notices_and_echoes_are_never_an_answer(capsys) -> None:  # type: ignore[no-untyped-def]
    """What Claude Code says about an agent is not the agent's reply: a step leaves the task
    open (no attempt spent) with the reason, and `next` records nothing for the seat."""
    step = start_demo(capsys)
    task = the_task(step)
    for text, reason in (
        (LAUNCHED, "launched in the background"),
        (HANDBACK, "hand-back frame"),
        (Path(task["prompt_file"]).read_text(), "own prompt"),
    ):
        write(task, text)
        code, step = mm_json(capsys, "next", step["run_dir"], "--wait", "0")
        assert code == 0 and not step["done"] and step["stage"] == "answer"
        assert not Path(step["run_dir"], "stage1", "claude_opus.json").exists()
        state = json.loads(
            Path(task["output_file"]).with_name("claude_opus.state.json").read_text()
        )
        assert reason in state["note"] and state["attempt"] == 1, state
    Path("notice.txt").write_text(LAUNCHED)
    code, _, err = mm(capsys, "submit", "--seat", "claude:opus", "--file", "notice.txt")
    assert code == 2 and "launched in the background" in err and err.count("\n") == 1


def test_next_hands_each_task_out_once_and_finishes_with_the_report(capsys) -> None:  # type: ignore[no-untyped-def]
    step = start_demo(capsys, "--chairman", "claude:opus")
    assert [c["run_in_background"] for c in step["agent_calls"]] == [False]
    assert step["then"].endswith(f"council next {step['run_dir']} --format json")
    assert os.path.isabs(step["then"].split()[0])  # the launcher's full path, never bare mm
    code, again = mm_json(capsys, "next", step["run_dir"], "--wait", "0")
    assert code == 0 and again["agent_calls"] == [] and not again["done"]
    for _ in range(3):  # answer, review, synthesis: each a task of the one Claude seat
        task = the_task(step)
        prompt = Path(task["prompt_file"]).read_text()
        if task["stage"] == "review":
            reply = ballot(labels_of(task["prompt_file"]), token_of(task["prompt_file"]))
        else:
            reply = "Spaces." if "chair" not in prompt else "Spaces, says the chair."
        write(task, reply)
        code, step = mm_json(capsys, "next", step["run_dir"], "--wait", "60")
        assert code == 0
        if step["done"]:
            break
    assert step["done"] and step["then"] is None and step["agent_calls"] == []
    assert "## Synthesis (chairman: claude:opus)" in step["report"]
    assert Path(step["report_file"]).is_file() and Path(step["result_file"]).is_file()
    assert '<svg id="ranking-chart"' in Path(step["report_html"]).read_text()


def test_invalid_ballot_gets_one_repair_then_is_recorded_invalid(capsys) -> None:  # type: ignore[no-untyped-def]
    task = the_task(through_review(capsys))
    write(task, "I liked them all.")
    code, out, err = mm(capsys, "submit", "--seat", "claude:opus")
    assert code == 2 and "repair prompt" in err and NO_JSON in err, (out, err)
    repair = Path(task["prompt_file"]).read_text()
    assert repair.endswith("No other text.\n") and f"- {NO_JSON}" in repair
    code, step = mm_json(capsys, "synthesize", "--wait", "0")
    assert code == 7 and the_task(step)["attempt"] == 2
    write(task, '{"ranking": ["Response A", "Response A"]}')
    code, step = mm_json(capsys, "synthesize", "--wait", "60")
    assert code == 0 and step["stage"] == "synthesis"
    record = json.loads((Path(step["run_dir"]) / "stage2" / "claude_opus.json").read_text())
    assert (record["status"], record["attempts"], record["ballot"]) == ("invalid", 2, None)
    assert any("non-unique" in e for e in record["errors"]), record["errors"]


def test_a_valid_ballot_submitted_from_stdin(capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    task = the_task(through_review(capsys))
    data = ballot(labels_of(task["prompt_file"]), token_of(task["prompt_file"])).encode()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, err = mm(capsys, "submit", "--seat", "claude:opus", "--file", "-")
    assert code == 0, err
    assert "claude:opus: review accepted" in out


# --- deadlines, quorum, chairman fallback ---------------------------------------------------


def test_a_claude_seat_past_its_deadline_is_missing(capsys) -> None:  # type: ignore[no-untyped-def]
    start_demo(capsys, "--deadline", "1")
    time.sleep(1.2)
    code, step = mm_json(capsys, "rank", "--wait", "60")
    assert code == 0 and step["stage"] == "review" and not step["tasks"]
    record = json.loads((Path(step["run_dir"]) / "stage1" / "claude_opus.json").read_text())
    assert record["status"] == "missing" and record["provider"] == "agent"


def test_missing_claude_chairman_hands_over_to_a_cli_seat(capsys) -> None:  # type: ignore[no-untyped-def]
    step = through_review(capsys)
    write(
        the_task(step),
        ballot(labels_of(the_task(step)["prompt_file"]), token_of(the_task(step)["prompt_file"])),
    )
    code, step = mm_json(capsys, "synthesize", "--wait", "60")
    assert the_task(step)["stage"] == "synthesis"  # the Claude chairman's task
    plan_path = Path(step["run_dir"]) / "plan.json"
    plan = json.loads(plan_path.read_text())
    plan["opened"]["synthesis"] -= plan["deadline_s"] + 1  # its deadline has passed
    plan_path.write_text(json.dumps(plan))
    code, out, err = mm(capsys, "result", "--wait", "60")
    assert code == 0, err
    assert re.search(r"## Synthesis \(chairman: \S+ \(after claude:opus failed\)", out)


def test_too_few_answers_stop_the_run_with_exit_6(fakes, capsys) -> None:  # type: ignore[no-untyped-def]
    fakes.set("codex", fixture=OK)
    fakes.set("gemini", fixture="gemini/no-auth.json-mode.real.stderr.txt", exit=41)
    code, _, err = mm(capsys, "start", "--panel", "codex,gemini", "--prompt", "q")
    assert code == 0, err
    code, _, err = mm(capsys, "rank", "--wait", "60")
    assert code == 6 and "quorum not met" in err and "gemini: auth_required" in err


# --- resumable: a step run again continues --------------------------------------------------


def wait_file(path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.1)


def kill_mid_answer(fakes, capsys) -> dict:  # type: ignore[no-untyped-def]
    """A codex,gemini run whose answer worker is SIGKILLed after codex answered, while the
    slow gemini still ran (killed too: SIGKILL gave the worker no time to stop its CLIs)."""
    fakes.set("codex", fixture=OK)
    fakes.set("gemini", fixture="gemini/ok.json", sleep=30)
    code, step = mm_json(capsys, "start", "--panel", "codex,gemini", "--prompt", "q")
    run_dir = Path(step["run_dir"])
    wait_file(run_dir / "stage1" / "codex.json", 30)
    code, waiting = mm_json(capsys, "rank", "--wait", "0")
    assert code == 7 and "gemini: CLI running" in waiting["waiting"]
    stop_worker(str(run_dir), "answer")
    for call in fakes.calls("gemini"):
        with contextlib.suppress(ProcessLookupError):
            os.kill(call["pid"], signal.SIGKILL)
    return step


def test_killed_worker_is_restarted_and_asks_only_the_unfinished_seats(fakes, capsys) -> None:  # type: ignore[no-untyped-def]
    kill_mid_answer(fakes, capsys)
    fakes.set("gemini", fixture="gemini/ok.json")
    code, step = mm_json(capsys, "rank", "--wait", "60")
    assert code == 0 and step["stage"] == "review"
    asked = [c["name"] for c in fakes.calls() if c["stdin"] == "q"]
    assert sorted(asked) == ["codex", "gemini", "gemini"]  # codex was not asked again


def test_one_worker_per_stage_even_when_asked_twice(fakes, capsys) -> None:  # type: ignore[no-untyped-def]
    fakes.set("codex", fixture=OK, sleep=2)
    fakes.set("gemini", fixture="gemini/ok.json", sleep=2)
    code, step = mm_json(capsys, "start", "--panel", "codex,gemini", "--prompt", "q")
    run = Run(Path(step["run_dir"]))
    first = run.store.path("workers/answer.pid").read_text()
    run.start_worker("answer")
    assert run.store.path("workers/answer.pid").read_text() == first
    code, step = mm_json(capsys, "rank", "--wait", "60")
    assert code == 0
    asked = [c["name"] for c in fakes.calls() if c["stdin"] == "q"]
    assert sorted(asked) == ["codex", "gemini"]


# --- status and run lookup ------------------------------------------------------------------


def test_status_reads_only_and_names_every_seat(capsys) -> None:  # type: ignore[no-untyped-def]
    step = start_demo(capsys)
    write(the_task(step), "An answer.")
    code, out, _ = mm(capsys, "status")
    assert code == 7
    assert "claude:opus: waiting for the Claude seat" in out  # the file was not taken
    assert Path(the_task(step)["output_file"]).exists()


def test_unknown_run_and_no_run_are_one_line_errors(capsys) -> None:  # type: ignore[no-untyped-def]
    code, _, err = mm(capsys, "rank")
    assert code == 2 and "no council run yet" in err and err.count("\n") == 1
    code, _, err = mm(capsys, "status", "nope")
    assert code == 2 and "not a council run" in err


def test_default_panel_of_start_is_the_clis_plus_one_claude_seat(fakes, capsys) -> None:  # type: ignore[no-untyped-def]
    fakes.set("codex", fixture=OK)  # the only CLI here: with the Claude seat it makes two
    code, step = mm_json(capsys, "start", "--prompt", "q")
    assert code == 0
    plan = json.loads((Path(step["run_dir"]) / "plan.json").read_text())
    assert [(s["id"], s["kind"]) for s in plan["seats"]] == [("codex", "cli"), ("claude", "agent")]
    assert the_task(step)["agent"] == "multi-model:panelist"


# --- a council run is a background job ------------------------------------------------------


def jobs(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    return run_mm(capsys, "jobs", *argv)


def test_a_cli_panel_finishes_on_its_own_as_a_job(capsys) -> None:  # type: ignore[no-untyped-def]
    began = time.monotonic()
    step = start_demo(capsys, panel="codex:gpt-5.4,gemini:gemini-3-pro,cursor-agent")
    assert time.monotonic() - began < 10 and step["job"] == step["run_id"]
    assert step["joined"] is False
    code, out, _ = jobs(capsys, "list")
    assert code == 0 and step["job"] in out and "council" in out
    row = wait_status(step["job"], "done")  # no step was run: the stage workers carried it
    assert re.fullmatch(r"3 of 3 answered; synthesis by \S+", row["summary"]), row
    code, out, _ = jobs(capsys, "result", step["job"])
    result = json.loads(out)
    assert code == 0 and result["synthesis"]["text"]
    jsonschema.validate(result, SCHEMA)
    assert [b["status"] for b in result["ballots"]] == ["valid"] * 3


def test_an_identical_start_joins_unless_fresh(capsys) -> None:  # type: ignore[no-untyped-def]
    first = start_demo(capsys)
    again = start_demo(capsys)
    assert (again["run_id"], again["joined"]) == (first["run_id"], True)
    assert the_task(first)["agent"] == "multi-model:panelist-opus"
    assert again["agent_calls"] == []  # handed out once: the first host's agent is on it
    other = start_demo(capsys, "--fresh")
    assert other["run_id"] != first["run_id"] and not other["joined"]
    runs = list((Path(first["run_dir"]).parent).glob("*/plan.json"))
    assert len(runs) == 2  # the joined start left no run directory behind


def test_cancel_stops_the_workers_and_the_run(fakes, capsys) -> None:  # type: ignore[no-untyped-def]
    fakes.set("codex", fixture=OK, sleep=60)
    fakes.set("gemini", fixture="gemini/ok.json", sleep=60)
    code, step = mm_json(capsys, "start", "--panel", "codex,gemini", "--prompt", "q")
    run = Run(Path(step["run_dir"]))
    deadline = time.monotonic() + 30
    while len(fakes.calls()) < 2:  # both CLIs started (their --version probes aside)
        assert time.monotonic() < deadline
        time.sleep(0.1)
    code, out, _ = jobs(capsys, "cancel", step["job"])
    assert code == 0 and "cancelled" in out
    assert not run.worker_alive("answer")
    for call in fakes.calls():
        with pytest.raises(ProcessLookupError):
            os.kill(call["pid"], 0)
    code, out, _ = jobs(capsys, "status", step["job"], "--format", "json")
    assert json.loads(out)["status"] == "cancelled"
    code, _, err = mm(capsys, "rank", step["run_id"], "--wait", "0")
    assert code == 2 and "was cancelled" in err and err.count("\n") == 1
    code, _, err = jobs(capsys, "result", step["job"])
    assert code == 5 and "cancelled" in err


def test_quorum_failure_marks_the_job_failed_and_is_not_joined(fakes, capsys) -> None:  # type: ignore[no-untyped-def]
    fakes.set("codex", fixture=OK)
    fakes.set("gemini", fixture="gemini/no-auth.json-mode.real.stderr.txt", exit=41)
    code, step = mm_json(capsys, "start", "--panel", "codex,gemini", "--prompt", "q")
    wait_file(Path(step["run_dir"]) / "failed.json")  # the run records it; nobody looked yet
    fakes.set("gemini", fixture="gemini/ok.json")  # logged in again: the same start anew
    code, again = mm_json(capsys, "start", "--panel", "codex,gemini", "--prompt", "q")
    assert code == 0 and not again["joined"] and again["run_id"] != step["run_id"]
    row = wait_status(step["job"], "failed")
    assert "quorum not met" in row["error"] and "gemini: auth_required" in row["error"]


def test_cancel_does_not_wait_behind_a_waiting_step(fakes, capsys) -> None:  # type: ignore[no-untyped-def]
    fakes.set("codex", fixture=OK, sleep=60)
    fakes.set("gemini", fixture="gemini/ok.json", sleep=60)
    _, step = mm_json(
        capsys, "start", "--panel", "codex,gemini", "--prompt", "q", "--runs-dir", "relative-runs"
    )
    assert Jobs(os.environ).get(step["job"])["dir"] == step["run_dir"]
    assert Path(step["run_dir"]).is_absolute()  # `mm jobs` works from any folder
    outcome: list[BaseException] = []

    def host_waits() -> None:  # `mm council rank --wait 100`, as a host runs it
        try:
            machine.advance(Run(Path(step["run_dir"])), "review", wait=100)
        except BaseException as exc:  # noqa: BLE001
            outcome.append(exc)

    host = threading.Thread(target=host_waits)
    host.start()
    time.sleep(1)
    began = time.monotonic()
    assert Jobs(os.environ).cancel(step["job"]) == "cancelled"
    host.join(30)
    assert time.monotonic() - began < 15 and not host.is_alive()
    assert "was cancelled" in str(outcome[0])


def test_a_killed_worker_leaves_a_job_that_status_carries_on(fakes, capsys) -> None:  # type: ignore[no-untyped-def]
    step = kill_mid_answer(fakes, capsys)
    code, out, _ = jobs(capsys, "list", "--format", "json")
    [row] = json.loads(out)
    assert row["status"] == "running" and "stage answer" in row["summary"]
    fakes.set("gemini", fixture="gemini/ok.json")
    code, out, _ = jobs(capsys, "status", step["job"])  # restarts the answer worker
    assert code == 0
    wait_file(Path(step["run_dir"]) / "stage1" / "gemini.json")
    asked = [c["name"] for c in fakes.calls() if c["stdin"] == "q"]
    assert sorted(asked) == ["codex", "gemini", "gemini"]


def test_a_run_from_before_keys_gets_one_key_and_keeps_it(capsys) -> None:  # type: ignore[no-untyped-def]
    step = start_demo(capsys)
    plan = Path(step["run_dir"], "plan.json")
    data = json.loads(plan.read_text())
    del data["key"]
    plan.write_text(json.dumps(data))
    first, second = Run(Path(step["run_dir"])), Run(Path(step["run_dir"]))
    assert first.plan.key == second.plan.key == json.loads(plan.read_text())["key"]


def test_a_hosted_run_with_k_reviewers_per_answer(capsys) -> None:  # type: ignore[no-untyped-def]
    assert mm(capsys, "start", "--demo", "--prompt", "Q?", "--reviewers-per-answer", "0")[0] == 2
    step = start_demo(
        capsys,
        "--reviewers-per-answer",
        "1",
        panel="codex:gpt-5.4,gemini:gemini-3-pro,cursor-agent",
    )
    assert Run(Path(step["run_dir"])).plan.reviewers_per_answer == 1
    wait_status(step["job"], "done")
    code, out, _ = jobs(capsys, "result", step["job"])
    result = json.loads(out)
    assert code == 0 and result["metadata"]["reviewers_per_answer"] == 1
    assert [len(b["label_map"]) for b in result["ballots"]] == [1, 1, 1]
    assert [b["status"] for b in result["ballots"]] == ["valid"] * 3
    assert "audit" in result["metadata"]
