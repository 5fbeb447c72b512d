"""The Claude seats' replies, taken from Claude Code's own hook payloads (stdlib only: the
plugin's hooks import it). The host model never copies a reply: a panelist subagent's final
message is written to its task's output file by this module, byte for byte where Claude
Code gives the exact text.

A reply is linked to its task through the Agent call's prompt ("Read the prompt file
<run>/tasks/<stage>/<seat>.prompt.md ..."), which the hooks see in one of two places:

    PostToolUse on the Agent tool   tool_input.prompt, tool_response.agentId; in the
                                    foreground, at the end, with the reply (exact); in the
                                    background, at launch (status "async_launched")
    SubagentStop                    agent_id, agent_type, agent_transcript_path (the first
                                    user entry is the prompt, the last assistant text is the
                                    exact reply; absent with --no-session-persistence) and
                                    last_assistant_message (whitespace trimmed at both ends)
    UserPromptSubmit                a background agent's <task-notification> that opened a
                                    new turn: <result> is the exact reply, XML-escaped

Events arrive in either order and for several councils at once: what one event teaches is
kept per agent (under the data dir, `council-agents/<session>/<agent>.json`, under a lock)
until the prompt and a reply are both known. An exact reply always replaces a lossy one; a
lossy one (no transcript: `--no-session-persistence`) is written with a note that says so.
"""

from __future__ import annotations

import fcntl
import html
import json
import os
import re
import time
from pathlib import Path

from multi_model.council.store import RunStore, slug
from multi_model.paths import data_dir

TYPE_CHECKING = False  # imported by the hooks: no `typing` at run time
if TYPE_CHECKING:
    from collections.abc import Mapping

    from pydantic import JsonValue

AGENT_TYPE = "multi-model:panelist"  # and panelist-opus, -sonnet, -haiku
AGENT_TOOLS = ("Agent", "Task")  # hooks see "Agent"; 2.1.197's init event lists "Task"
PROMPT_RE = re.compile(r"prompt file (/.+?\.prompt\.md)")
TOOLS_USED = re.compile(r"<tools-used-before-summary>.*</tools-used-before-summary>\s*", re.S)
NOTIFICATION = re.compile(
    r"<task-notification>\s*<task-id>(?P<id>[^<]+)</task-id>.*?<status>(?P<status>[^<]*)"
    r"</status>.*?(?:<result>(?P<result>.*?)</result>.*?)?</task-notification>",
    re.S,
)
EXACT, LOSSY = 2, 1
LOSSY_NOTE = (
    "Claude Code gave only its last_assistant_message for this reply (no transcript, "
    "e.g. --no-session-persistence): whitespace at its start and end may be missing"
)


def handle(event: Mapping[str, object], env: Mapping[str, str]) -> None:
    """One hook event; never raises for events that are not ours."""
    name = event.get("hook_event_name")
    if name == "SubagentStop":
        _on_stop(event, env)
    elif name == "PostToolUse" and event.get("tool_name") in AGENT_TOOLS:
        _on_agent_tool(event, env)
    elif name == "UserPromptSubmit":
        _on_notification(event, env)


def _on_agent_tool(event: Mapping[str, object], env: Mapping[str, str]) -> None:
    tool_input = _dict(event.get("tool_input"))
    response = _dict(event.get("tool_response"))
    agent_type = str(tool_input.get("subagent_type") or "")
    agent_id = str(response.get("agentId") or response.get("agent_id") or "")
    if not agent_type.startswith(AGENT_TYPE) or not agent_id:
        return
    facts: dict[str, object] = {"prompt": str(tool_input.get("prompt") or "")}
    reply = _tool_reply(response)
    if reply is not None:
        facts.update(reply=reply, quality=EXACT, source="Agent tool result")
    _learn(str(event.get("session_id") or "none"), agent_id, facts, env)


def _on_stop(event: Mapping[str, object], env: Mapping[str, str]) -> None:
    agent_type = str(event.get("agent_type") or "")
    agent_id = str(event.get("agent_id") or "")
    if not agent_type.startswith(AGENT_TYPE) or not agent_id:
        return
    facts: dict[str, object] = {}
    transcript = read_transcript(str(event.get("agent_transcript_path") or ""))
    if transcript is not None:
        prompt, reply = transcript
        facts.update(prompt=prompt)
        if reply is not None:
            facts.update(reply=reply, quality=EXACT, source="subagent transcript")
    last = event.get("last_assistant_message")
    if "reply" not in facts and isinstance(last, str):
        facts.update(reply=last, quality=LOSSY, source="last_assistant_message", note=LOSSY_NOTE)
    _learn(str(event.get("session_id") or "none"), agent_id, facts, env)


def _tool_reply(response: Mapping[str, object]) -> str | None:
    """The reply in a foreground Agent result, or None at a background launch. `content` is
    the reply as text blocks; 2.1.198+ put a <tools-used-before-summary> block first."""
    if response.get("status") != "completed":
        return None
    texts = [t for t in _texts(response.get("content")) if not TOOLS_USED.fullmatch(t)]
    return "".join(texts) if texts else None


def _on_notification(event: Mapping[str, object], env: Mapping[str, str]) -> None:
    """A background agent's <task-notification> that opened a new turn: its <result> is the
    exact reply, XML-escaped (whitespace kept); <task-id> is the agent id."""
    prompt = event.get("prompt")
    if not isinstance(prompt, str) or "<task-notification>" not in prompt:
        return
    for block in NOTIFICATION.finditer(prompt):
        agent_id, status, result = block.group("id"), block.group("status"), block.group("result")
        if status == "completed" and result is not None:
            _learn(
                str(event.get("session_id") or "none"),
                agent_id,
                {"reply": html.unescape(result), "quality": EXACT, "source": "task notification"},
                env,
            )


def read_transcript(path: str) -> tuple[str, str | None] | None:
    """(prompt, last assistant text) from a subagent transcript, or None without one. The
    last assistant message may span several entries (one per content block, same id)."""
    if not path:
        return None
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    entries = [e for e in map(_json, lines) if isinstance(e, dict)]
    messages = [_dict(e.get("message")) for e in entries if e.get("type") in ("user", "assistant")]
    users = [m for m in messages if m.get("role") == "user"]
    if not users:
        return None
    prompt = _text(users[0].get("content"))
    assistant = [m for m in messages if m.get("role") == "assistant"]
    if not assistant:
        return prompt, None
    last_id = assistant[-1].get("id")
    tail: list[dict[str, object]] = []
    for message in reversed(assistant):
        if last_id is None or message.get("id") != last_id:
            break
        tail.insert(0, message)
    texts = [t for m in tail for t in _texts(m.get("content"))]
    return prompt, ("".join(texts) if texts else None)


def _learn(
    session: str, agent_id: str, facts: Mapping[str, object], env: Mapping[str, str]
) -> None:
    """Merge what this event taught into the agent's record; write the reply to its task
    once both the task and a reply are known (a better reply replaces a worse one)."""
    spool = RunStore(data_dir(env) / "council-agents" / slug(session)[:120])
    spool.root.mkdir(parents=True, exist_ok=True, mode=0o700)
    name = f"{slug(agent_id)[:120]}.json"
    with open(spool.path(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        record = spool.read_json(name) or {"agent_id": agent_id}
        if facts.get("prompt") and not record.get("prompt"):
            record["prompt"] = facts["prompt"]
        if "reply" in facts and int(str(facts["quality"])) > int(record.get("quality", 0)):
            record.pop("note", None)
            record.update({k: v for k, v in facts.items() if k != "prompt"})
        task = task_of_prompt(str(record.get("prompt") or ""), env)
        if (
            task is not None
            and "reply" in record
            and record.get("written", 0) < int(record["quality"])
        ):
            _write_reply(task, record)
            record["written"] = record["quality"]
            record["task"] = [str(task[0].root), task[1], task[2]]
        elif task is not None and not record.get("launched") and not record.get("written"):
            _mark_launched(task, agent_id)
            record["launched"] = True
        spool.write_json(name, record)


def task_of_prompt(prompt: str, env: Mapping[str, str]) -> tuple[RunStore, str, str] | None:
    """(run, stage, seat) of the task whose prompt file an Agent prompt names, if that file
    is a task prompt inside one of this user's council runs (anything else is not ours)."""
    match = PROMPT_RE.search(prompt)
    if not match:
        return None
    runs = os.path.realpath(data_dir(env) / "runs")
    prompt_file = os.path.realpath(match.group(1))
    if os.path.commonpath([runs, prompt_file]) != runs or not os.path.isfile(prompt_file):
        return None
    found = RunStore.task_of_prompt(Path(prompt_file))
    if found is None or not (found[0] / RunStore.PLAN).is_file():
        return None
    return RunStore(found[0]), found[1], found[2]


def _write_reply(task: tuple[RunStore, str, str], record: Mapping[str, object]) -> None:
    """The capture record first, then the reply: a step that sees the reply sees how it
    was taken."""
    store, stage, seat = task
    _write_capture(
        task,
        {
            "agent_id": record.get("agent_id"),
            "source": record.get("source"),
            "exact": int(str(record["quality"])) >= EXACT,
            "note": record.get("note"),
        },
    )
    store.write_text(store.task_rels(stage, seat)[1], str(record["reply"]))


def _mark_launched(task: tuple[RunStore, str, str], agent_id: str) -> None:
    """An agent is on the task (a background launch): the step waits for it rather than
    hand the same Agent call out again."""
    _write_capture(task, {"agent_id": agent_id, "source": None, "exact": None, "note": None})


def _write_capture(task: tuple[RunStore, str, str], capture: dict[str, object]) -> None:
    store, stage, seat = task
    store.write_json(store.task_capture_rel(stage, seat), {**capture, "t": time.time()})


def read_capture(store: RunStore, stage: str, seat: str) -> dict[str, JsonValue] | None:
    """How the seat's reply was captured ({agent_id, source, exact, note, t}), if it was."""
    return store.read_json(store.task_capture_rel(stage, seat))


def _texts(content: object) -> list[str]:
    if isinstance(content, str):
        return [content]
    if not isinstance(content, list):
        return []
    return [
        b["text"]
        for b in content
        if isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str)
    ]


def _text(content: object) -> str:
    return "\n".join(_texts(content))


def _dict(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _json(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None
