"""The Claude seats' replies taken from Claude Code's hook payloads (capture.py): every order
the events can come in, exact replies replacing lossy ones, several councils at once, and
nothing written for an agent or a prompt file that is not a council task's."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from multi_model.council.hosted import capture
from multi_model.council.store import RunStore

TRICKY = "  leading spaces\n\n<b>&amp; {\"q\": 'x'}\n  indented line\n"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"MULTI_MODEL_HOME": str(tmp_path / "mm"), "HOME": str(tmp_path)}


def task(
    env: dict[str, str], run: str = "20261205-120000-abc", stage: str = "answer", seat: str = "opus"
) -> tuple[Path, Path]:
    root = Path(env["MULTI_MODEL_HOME"]) / "data" / "runs" / run
    (root / "tasks" / stage).mkdir(parents=True, exist_ok=True)
    (root / "plan.json").write_text("{}")
    prompt = root / "tasks" / stage / f"{seat}.prompt.md"
    prompt.write_text("the question")
    out = prompt.with_name(seat + (".json" if stage == "review" else ".md"))
    return prompt, out


def captured(out: Path) -> dict | None:
    record = capture.read_capture(RunStore(out.parents[2]), out.parent.name, out.stem)
    return None if record is None else {k: v for k, v in record.items() if k != "t"}


def agent_prompt(prompt: Path) -> str:
    return f"Read the prompt file {prompt} and do what it asks."


def post(
    prompt: str,
    agent_id: str,
    reply: str | None = None,
    session: str = "s1",
    agent: str = "multi-model:panelist-opus",
    tools_used: bool = False,
) -> dict:
    """PostToolUse of the Agent tool as 2.1.197 and 2.1.332 send it: at a background launch
    (no reply), or at the end of a foreground call (2.1.332 puts a block naming the tools
    the agent used first)."""
    response: dict = {
        "agentId": agent_id,
        "status": "async_launched",
        "isAsync": True,
        "outputFile": "/tmp/none.output",
    }
    if reply is not None:
        used = (
            [
                {
                    "type": "text",
                    "text": "<tools-used-before-summary>Read</tools-used-before-summary>\n",
                }
            ]
            if tools_used
            else []
        )
        response = {
            "agentId": agent_id,
            "status": "completed",
            "content": [*used, {"type": "text", "text": reply}],
        }
    return {
        "hook_event_name": "PostToolUse",
        "tool_name": "Agent",
        "session_id": session,
        "tool_input": {"subagent_type": agent, "prompt": prompt, "description": "x"},
        "tool_response": response,
    }


def stop(
    agent_id: str,
    last: str,
    transcript: Path | None = None,
    session: str = "s1",
    agent: str = "multi-model:panelist-opus",
) -> dict:
    return {
        "hook_event_name": "SubagentStop",
        "session_id": session,
        "agent_id": agent_id,
        "agent_type": agent,
        "last_assistant_message": last,
        "agent_transcript_path": str(transcript or "/nonexistent/agent.jsonl"),
    }


def transcript(path: Path, prompt: str, reply_blocks: list[str]) -> Path:
    lines = [
        {"type": "user", "message": {"role": "user", "content": prompt}},
        {
            "type": "assistant",
            "message": {
                "id": "m1",
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t", "name": "Read", "input": {}}],
            },
        },
        {
            "type": "user",
            "message": {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t", "content": "file text"}],
            },
        },
    ]
    lines += [
        {
            "type": "assistant",
            "message": {"id": "m2", "role": "assistant", "content": [{"type": "text", "text": b}]},
        }
        for b in reply_blocks
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    return path


def test_foreground_stop_first_then_the_exact_tool_result(env: dict[str, str]) -> None:
    prompt, out = task(env)
    capture.handle(stop("a1", TRICKY.lstrip()), env)
    assert not out.exists()  # the task is not known yet
    capture.handle(post(agent_prompt(prompt), "a1", reply=TRICKY), env)
    assert out.read_bytes() == TRICKY.encode()
    assert captured(out) == {
        "agent_id": "a1",
        "source": "Agent tool result",
        "exact": True,
        "note": None,
    }


def test_foreground_result_of_newer_releases_skips_the_tools_used_block(
    env: dict[str, str],
) -> None:
    prompt, out = task(env)
    capture.handle(post(agent_prompt(prompt), "a1", reply=TRICKY, tools_used=True), env)
    assert out.read_bytes() == TRICKY.encode()


def notification(agent_id: str, reply: str, status: str = "completed") -> str:
    escaped = reply.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return (
        f"<system-reminder>\n[SYSTEM NOTIFICATION - NOT USER INPUT]\n<task-notification>\n"
        f"<task-id>{agent_id}</task-id>\n<tool-use-id>toolu_1</tool-use-id>\n"
        f"<output-file>/tmp/x.output</output-file>\n<status>{status}</status>\n"
        f"<summary>Agent done</summary>\n<result>{escaped}</result>\n<usage>"
        f"<subagent_tokens>15</subagent_tokens></usage>\n</task-notification>\n"
        "</system-reminder>"
    )


def test_a_task_notification_turn_gives_the_exact_reply_of_a_background_agent(
    env: dict[str, str],
) -> None:
    prompt, out = task(env)
    _, other = task(env, seat="sonnet")
    capture.handle(post(agent_prompt(prompt), "a1"), env)
    capture.handle(post(agent_prompt(other), "a2", agent="multi-model:panelist-sonnet"), env)
    capture.handle(stop("a1", TRICKY.strip()), env)
    assert out.read_text() == TRICKY.strip()
    text = notification("a1", TRICKY) + "\n" + notification("a2", "x", status="failed")
    capture.handle({"hook_event_name": "UserPromptSubmit", "session_id": "s1", "prompt": text}, env)
    assert out.read_bytes() == TRICKY.encode()
    assert captured(out)["source"] == "task notification"
    assert not other.exists()  # a failed agent has no reply


def test_background_without_transcript_records_the_lossy_text_and_says_so(
    env: dict[str, str],
) -> None:
    prompt, out = task(env)
    capture.handle(post(agent_prompt(prompt), "a1"), env)
    assert not out.exists()
    capture.handle(stop("a1", TRICKY.lstrip()), env)
    assert out.read_text() == TRICKY.lstrip()
    record = captured(out)
    assert record["exact"] is False and "whitespace at its start and end" in record["note"]


def test_stop_before_the_launch_link_is_written_once_the_link_arrives(env: dict[str, str]) -> None:
    prompt, out = task(env)
    capture.handle(stop("a1", "reply"), env)
    capture.handle(post(agent_prompt(prompt), "a1"), env)
    assert out.read_text() == "reply"


def test_transcript_gives_prompt_and_exact_reply_alone(env: dict[str, str], tmp_path: Path) -> None:
    prompt, out = task(env)
    path = transcript(tmp_path / "agent-a1.jsonl", agent_prompt(prompt), [TRICKY, "more\n"])
    capture.handle(stop("a1", "stripped", path), env)
    assert out.read_bytes() == (TRICKY + "more\n").encode()
    assert captured(out)["source"] == "subagent transcript"


def test_an_exact_reply_replaces_a_lossy_one_never_the_reverse(env: dict[str, str]) -> None:
    prompt, out = task(env)
    capture.handle(post(agent_prompt(prompt), "a1"), env)
    capture.handle(stop("a1", "lossy"), env)
    capture.handle(post(agent_prompt(prompt), "a1", reply=TRICKY), env)
    assert out.read_text() == TRICKY
    capture.handle(stop("a1", "lossy again"), env)
    assert out.read_text() == TRICKY


def test_a_launch_marks_the_task_taken_but_never_hides_a_reply_written_before(
    env: dict[str, str], tmp_path: Path
) -> None:
    prompt, out = task(env)
    capture.handle(post(agent_prompt(prompt), "a1"), env)
    assert captured(out) == {"agent_id": "a1", "source": None, "exact": None, "note": None}
    _, other = task(env, seat="sonnet")
    path = transcript(
        tmp_path / "agent-a2.jsonl", agent_prompt(other.with_name("sonnet.prompt.md")), [TRICKY]
    )
    capture.handle(stop("a2", "x", path, agent="multi-model:panelist-sonnet"), env)
    capture.handle(
        post(
            agent_prompt(other.with_name("sonnet.prompt.md")),
            "a2",
            agent="multi-model:panelist-sonnet",
        ),
        env,
    )  # the launch, seen late
    assert captured(other)["source"] == "subagent transcript"
    assert other.read_text() == TRICKY


def test_review_task_reply_goes_to_the_ballot_file(env: dict[str, str]) -> None:
    prompt, out = task(env, stage="review", seat="sonnet")
    capture.handle(
        post(
            agent_prompt(prompt), "a9", reply='{"ranking": []}', agent="multi-model:panelist-sonnet"
        ),
        env,
    )
    assert out.name == "sonnet.json" and out.read_text() == '{"ranking": []}'


@pytest.mark.parametrize(
    "case", ["other agent", "outside runs", "no such file", "link out", "not a task", "no prompt"]
)
def test_nothing_is_written_for_what_is_not_a_council_task(
    env: dict[str, str], tmp_path: Path, case: str
) -> None:
    prompt, _ = task(env)
    outside = tmp_path / "elsewhere" / "tasks" / "answer"
    outside.mkdir(parents=True)
    (outside / "opus.prompt.md").write_text("q")
    link = prompt.with_name("link.prompt.md")
    link.symlink_to(outside / "opus.prompt.md")
    plain = prompt.parents[2] / "notes.prompt.md"
    plain.write_text("q")
    prompts = {
        "other agent": agent_prompt(prompt),
        "outside runs": agent_prompt(outside / "opus.prompt.md"),
        "no such file": agent_prompt(prompt.with_name("x.prompt.md")),
        "link out": agent_prompt(link),
        "not a task": agent_prompt(plain),
        "no prompt": "Answer the question.",
    }
    agent = "general-purpose" if case == "other agent" else "multi-model:panelist-opus"
    capture.handle(post(prompts[case], "a1", reply="R", agent=agent), env)
    capture.handle(stop("a1", "R", agent=agent), env)
    written = [p for p in (tmp_path).rglob("*.md") if p.read_text() == "R"]
    assert written == [] and not (outside / "opus.md").exists()


def test_several_councils_and_agents_at_once_each_reply_in_its_own_task(
    env: dict[str, str],
) -> None:
    seats = [(run, seat) for run in ("r-1", "r-2") for seat in ("opus", "sonnet", "haiku")]
    files = {s: task(env, run=s[0], seat=s[1]) for s in seats}
    events = []
    for n, (run, seat) in enumerate(seats):
        prompt, _ = files[(run, seat)]
        agent = f"a{n}"
        session = "s-" + run
        events += [
            post(agent_prompt(prompt), agent, session=session),
            stop(agent, f"reply {run} {seat}", session=session),
        ]
    threads = [threading.Thread(target=capture.handle, args=(e, env)) for e in events[::-1]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for (run, seat), (_, out) in files.items():
        assert out.read_text() == f"reply {run} {seat}"


def test_events_that_are_not_ours_are_ignored(env: dict[str, str]) -> None:
    for event in (
        {},
        {"hook_event_name": "PostToolUse", "tool_name": "Bash"},
        {"hook_event_name": "SubagentStop", "agent_type": None},
        {
            "hook_event_name": "PostToolUse",
            "tool_name": "Agent",
            "tool_input": "x",
            "tool_response": None,
        },
    ):
        capture.handle(event, env)
    assert not (Path(env["MULTI_MODEL_HOME"]) / "data" / "council-agents").exists()
