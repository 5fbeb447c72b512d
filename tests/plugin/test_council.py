"""`/multi-model:council` in the real Claude Code, on every pinned release, with the scripted
model of claudeapi.py playing the host three ways: (a) it follows the command text exactly
(foreground Agent calls, all in one message); (b) it keeps the Agent tool's default, which
runs subagents in the background on 2.1.198+, ends its turn and goes on when each
<task-notification> arrives, as the tool text tells a model to; (c) its subagents reply with
markup, entities, braces, quotes, leading spaces, blank lines and 40 KB. In every case the
council finishes with no permission refused, and each Claude seat's recorded answer is the
subagent's reply byte for byte, taken by the plugin's hooks (never copied by the host), or,
where Claude Code gives no exact text, what it gives and a note saying so."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from tests.plugin.conftest import ROOT, Claude, Run
from tests.plugin.hostcost import host_cost

SCHEMA = json.loads((ROOT / "schemas" / "council-result.schema.json").read_text())
PANEL = "codex:gpt-5.4,gemini:gemini-3-pro,opus,sonnet"
QUESTION = 'Tabs or spaces? Answer as {"choice": "..."} if you like.'
MM = str(ROOT / "scripts" / "mm")


def council(
    claude: Claude,
    tmp_path: Path,
    host: str = "follow",
    replies: str = "plain",
    persist: bool = False,
    moved: str | None = "MULTI_MODEL_HOME",
) -> tuple[Run, Path, dict]:
    """One council; (the run, its run folder, its result.json). `moved`: the variable that
    moves the data dir (MULTI_MODEL_HOME, XDG_DATA_HOME) where no static grant of the
    commands reaches; None: the default place."""
    env = {"CLAUDE_PLUGIN_OPTION_PANEL": PANEL}
    runs = {
        "MULTI_MODEL_HOME": tmp_path / "moved" / "data" / "runs",
        "XDG_DATA_HOME": tmp_path / "moved" / "multi-model" / "runs",
    }.get(moved or "")
    if moved:
        env[moved] = str(tmp_path / "moved")
    run = claude.run(
        f"/multi-model:council {QUESTION}",
        env=env,
        persist=persist,
        mock={"CLAUDEAPI_HOST": host, "CLAUDEAPI_REPLIES": replies},
    )
    assert run.code == 0, run.stderr[-3000:]
    results = [e for e in run.events if e.get("type") == "result"]
    assert [d for r in results for d in r.get("permission_denials", [])] == []
    assert any(r["result"].startswith("COUNCIL-DONE") for r in results), [
        r["result"][:2000] for r in results
    ]
    folder = run_dir(run)
    if runs:
        assert folder.parent == runs
    result = json.loads((folder / "result.json").read_text())
    jsonschema.validate(result, SCHEMA)
    return run, folder, result


def run_dir(run: Run) -> Path:
    for request in run.requests:
        match = re.search(r'\\"run_dir\\": \\"([^\\"]+)\\"', json.dumps(request["body"]))
        if match:
            return Path(match.group(1))
    raise AssertionError("no council step in the conversation")


def replies_of(run: Run) -> dict[str, list[str]]:
    """Each subagent model's final replies, as the scripted API sent them."""
    out: dict[str, list[str]] = {}
    for r in run.subagent_requests():
        texts = [b["text"] for b in r.get("reply", []) if b["type"] == "text"]
        if texts:
            out.setdefault(r["body"]["model"], []).append(texts[0])
    return out


def claude_answers(result: dict) -> dict[str, dict]:
    return {r["model"]: r for r in result["answers"] if r["provider"] == "agent"}


def assert_seats_and_ballots(result: dict) -> None:
    seats = {r["model"]: r for r in result["answers"]}
    assert {m: r["status"] for m, r in seats.items()} == dict.fromkeys(
        ["codex:gpt-5.4", "gemini:gemini-3-pro", "opus", "sonnet"], "ok"
    )
    assert seats["codex:gpt-5.4"]["exit_code"] == 0 and seats["codex:gpt-5.4"]["cli_version"]
    assert {b["reviewer"]: b["status"] for b in result["ballots"]} == dict.fromkeys(seats, "valid")
    assert result["synthesis"]["text"]


def assert_exact(run: Run, result: dict) -> None:
    """Every Claude seat's answer is one of its subagent's replies, byte for byte, and its
    record says it was taken exactly, from Claude Code itself."""
    sent = replies_of(run)
    for seat, record in claude_answers(result).items():
        model = next(m for m in sent if seat in m)
        assert record["text"] in sent[model], (seat, record["text"][:200])
        capture = record["metadata"]["capture"]
        assert capture["exact"] is True and capture["source"], capture
        assert record["metadata"]["submitted_via"] == "hook"


def test_a_host_that_follows_the_command_finishes_in_the_users_turn(
    claude: Claude, tmp_path: Path
) -> None:
    run, folder, result = council(claude, tmp_path, moved=None)
    assert_seats_and_ballots(result)
    assert_exact(run, result)
    first = json.dumps(run.requests[0]["body"]["messages"])
    assert "<command-name>/multi-model:council</command-name>" in first and MM in first
    bash = [c["input"]["command"] for c in run.tool_calls("Bash")]
    assert [re.search(r"council (\w+)", c).group(1) for c in bash][:2] == ["prepare", "start"]
    assert all(c == f"{MM} council next {folder} --format json" for c in bash[2:]), bash
    assert host_cost(run.requests).turns <= 7  # prepare, write, start, 1 per stage, report
    writes = run.tool_calls("Write")
    assert len(writes) == 1 and "/questions/" in writes[0]["input"]["file_path"]  # no copying
    agents = [c["input"] for c in run.tool_calls("Agent")]
    assert {a["subagent_type"] for a in agents} == {
        "multi-model:panelist-opus",
        "multi-model:panelist-sonnet",
    }
    assert all(a["run_in_background"] is False for a in agents)
    for message in agent_messages(run):  # each stage's seats in one message, in parallel
        assert len({a["input"]["description"].split()[-1] for a in message}) == 1
    assert len([e for e in run.events if e.get("type") == "result"]) == 1  # one user turn
    sub = run.subagent_requests()
    assert {tuple(sorted(t["name"] for t in r["body"]["tools"])) for r in sub} == {
        ("Glob", "Grep", "Read")
    }  # read-only seats


def agent_messages(run: Run) -> list[list[dict]]:
    return [
        [b for b in e["message"]["content"] if b.get("type") == "tool_use" and b["name"] == "Agent"]
        for e in run.events
        if e.get("type") == "assistant"
        and any(b.get("name") == "Agent" for b in e["message"]["content"])
    ]


@pytest.mark.parametrize(
    "host, persist",
    [("background", False), ("notified", False), ("notified", True)],
    ids=["background", "notified-no-transcripts", "notified"],
)
def test_a_host_with_background_subagents_still_finishes(
    claude: Claude, tmp_path: Path, host: str, persist: bool
) -> None:
    run, _, result = council(claude, tmp_path, host=host, persist=persist)
    assert_seats_and_ballots(result)
    agents = [c["input"] for c in run.tool_calls("Agent")]
    assert all("run_in_background" not in a for a in agents)
    if not claude.newer:  # 2.1.197 runs them in the foreground: the same as (a)
        assert_exact(run, result)
        return
    turns = [e for e in run.events if e.get("type") == "result"]
    if host == "notified":  # it went on in later turns, under the plugin's own grant
        assert len(turns) > 1
    sent = replies_of(run)
    for seat, record in claude_answers(result).items():
        model = next(m for m in sent if seat in m)
        capture = record["metadata"]["capture"]
        if capture["exact"]:
            assert record["text"] in sent[model]
        else:  # no exact text to be had: what Claude Code gave, and a note that says so
            assert record["text"] in [t.strip() for t in sent[model]]
            assert (
                "whitespace" in capture["note"]
                and capture["note"] in record["metadata"]["provenance"]
            )


@pytest.mark.parametrize("host", ["follow", "background"])
def test_tricky_and_long_replies_are_recorded_byte_exact(
    claude: Claude, tmp_path: Path, host: str
) -> None:
    run, folder, result = council(
        claude, tmp_path, host=host, replies="tricky", persist=True, moved="XDG_DATA_HOME"
    )
    assert_seats_and_ballots(result)
    assert_exact(run, result)
    answers = claude_answers(result)
    assert len(answers["opus"]["text"]) > 40_000 and answers["opus"]["text"].startswith("  ")
    assert "<b>&amp; {\"q\": 'x'}</b>" in answers["sonnet"]["text"]
    assert (folder / "tasks" / "answer" / "opus.md").read_bytes().decode() == answers["opus"][
        "text"
    ]


def test_host_output_does_not_grow_with_the_answers(claude: Claude, tmp_path: Path) -> None:
    """The host writes no reply: its output does not grow with 40 KB answers (the chairman
    is fixed: who chairs would change the count). What may differ is a fixed few hundred
    characters: the run paths (`0` vs `40000`) and the report's audit lines (the length line
    reads differently when every answer has the same length); quoting the answers would add
    120 KB."""
    costs = []
    for size in (0, 40_000):
        run = claude.run(
            f"/multi-model:council {QUESTION}",
            env={
                "CLAUDE_PLUGIN_OPTION_PANEL": PANEL,
                "CLAUDE_PLUGIN_OPTION_CHAIRMAN": "opus",
                "MULTI_MODEL_HOME": str(tmp_path / str(size)),
            },
            mock={"CLAUDEAPI_ANSWER_BYTES": str(size)},
        )
        assert run.code == 0 and run.result["result"].startswith("COUNCIL-DONE")
        costs.append(host_cost(run.requests))
    short, long = costs
    assert long.turns == short.turns and long.tool_calls == short.tool_calls
    assert abs(long.output_chars - short.output_chars) < 500, costs
