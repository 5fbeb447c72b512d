"""A scripted Anthropic Messages API for driving the real Claude Code headless (stdlib only,
127.0.0.1 only). The "model" here follows the plugin's own instructions the way Claude would.

    python claudeapi.py --port-file F --log L [--lifetime 600]

Every request is appended to the log as one JSON line (path, headers, body). Replies stream
as SSE. The reply is chosen from the tail of the conversation (everything after the last
assistant message), never by re-reading the first turn once the model has acted, so a run
cannot loop:

Main conversation (the host's behaviour is CLAUDEAPI_HOST: follow, background or notified)
  - first turn, `/multi-model:council` expanded: `MM council prepare` (MM from the command's
    text); after it, a Write of the question to its `question_file`; then `MM council start`;
  - after a council step's JSON: its `agent_calls` as Agent calls and its `then` as a Bash
    call, in one message (notified: the Agent calls alone); once `done`: "COUNCIL-DONE" and
    the report; after background launches alone: the turn ends; a <task-notification> turn:
    the newest `then` again. The host never writes a reply: the plugin's hooks take them;
  - first turn containing `PLEASE_SKILL <name>`: a Skill call; after it: SKILL-DONE;
  - first turn containing `PLEASE_EDIT <path> [wait=S]`: a Write of code with an eval() to
    <path>; after it, S seconds later: a Read of <path>; after the Read: EDIT-DONE;
  - first turn `/multi-model:ask`, `detect` or `review`: see their own section below;
  - anything else (a Stop hook's feedback included): MOCK-REPLY.
Subagents (`x-claude-code-agent-id` header)
  - first turn: Read the prompt file named in the prompt; after the Read: the seat's reply,
    a JSON ballot over the labels shown, a synthesis, or an answer naming the model it ran on
    (CLAUDEAPI_REPLIES=tricky: with markup, entities, leading spaces, blank lines, 40 KB for
    opus; CLAUDEAPI_ANSWER_BYTES: answers padded to that size).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

EDIT_RE = re.compile(r"PLEASE_EDIT (\S+)(?: wait=([\d.]+))?")
BUGGY = "import os\nprint(eval(os.environ['EXPR']))\n"
STEP_RE = re.compile(r"council (prepare|start|next)\b")
LABEL_RE = re.compile(r"<<<BEGIN \S+ (Response [A-Z]+)>>>")


def text_of(content: object) -> str:
    if isinstance(content, str):
        return content
    parts = []
    for block in content or []:  # type: ignore[union-attr]
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text":
            parts.append(block.get("text", ""))
        elif block.get("type") == "tool_result":
            parts.append(text_of(block.get("content")))
    return "\n".join(parts)


def tool(name: str, **args: object) -> dict:
    return {"type": "tool_use", "id": "toolu_" + uuid.uuid4().hex[:20], "name": name, "input": args}


def say(text: str) -> list[dict]:
    return [{"type": "text", "text": text}]


# --- the main conversation -------------------------------------------------------------------

# follow: the command text exactly (Agent calls and `then` in one message); background: the
# same, keeping the Agent tool's default (2.1.198+: in the background); notified: background
# Agent calls alone, then the turn ends and each <task-notification> turn runs `then`
HOST = os.environ.get("CLAUDEAPI_HOST", "follow")
REPLIES = os.environ.get("CLAUDEAPI_REPLIES", "plain")  # plain | tricky
ANSWER_BYTES = int(os.environ.get("CLAUDEAPI_ANSWER_BYTES", "0"))  # pad answers to this size
NOTIFICATION = "<task-notification>"


def main_turn(messages: list[dict]) -> list[dict]:
    own = command_turn(messages)  # /multi-model:ask, detect, review: their own section below
    if own is not None:
        return own
    last_a = max((i for i, m in enumerate(messages) if m["role"] == "assistant"), default=-1)
    tail = messages[last_a + 1 :]
    results = {
        b["tool_use_id"]: b
        for m in tail
        if isinstance(m["content"], list)
        for b in m["content"]
        if isinstance(b, dict) and b.get("type") == "tool_result"
    }
    if last_a < 0:
        return first_turn(messages)
    mm = launcher(messages)
    if mm and not results and NOTIFICATION in "\n".join(text_of(m["content"]) for m in tail):
        return council_then(messages)  # a background seat reported back: the step again
    if not results:
        return say("MOCK-REPLY")
    calls = [
        b
        for b in messages[last_a]["content"]
        if isinstance(b, dict) and b.get("type") == "tool_use"
    ]
    steps = [c for c in calls if c["name"] == "Bash" and STEP_RE.search(c["input"]["command"])]
    if mm and steps and calls[0]["name"] == "Agent":  # Agent calls and `then` in one message
        return after_bash(steps, results, messages)
    if calls and calls[0]["name"] == "Agent" and mm:
        if all(
            text_of(r.get("content")).startswith("Async agent launched") for r in results.values()
        ):
            return say("The council's subagents run in the background; I wait for them.")
        return council_then(messages)  # replies are taken by the plugin's hooks
    if calls and calls[0]["name"] == "Write" and not mm:
        match = EDIT_RE.search(text_of(messages[0]["content"]))
        time.sleep(float(match.group(2) or 0) if match else 0)
        return [tool("Read", file_path=calls[0]["input"]["file_path"])]
    if calls and calls[0]["name"] == "Read":
        return say("EDIT-DONE")
    if calls and calls[0]["name"] == "Write" and mm:
        path = calls[0]["input"]["file_path"]
        return [
            tool(
                "Bash",
                command=f"{mm} council start --format json --prompt-file {path}",
                description="start the council",
            )
        ]
    if calls and calls[0]["name"] == "Bash" and mm:
        return after_bash(calls, results, messages)
    if calls and calls[0]["name"] == "Skill":
        return say("SKILL-DONE")
    return say("MOCK-REPLY")


def first_turn(messages: list[dict]) -> list[dict]:
    user = "\n".join(text_of(m["content"]) for m in messages if m["role"] != "assistant")
    if "<command-name>/multi-model:council</command-name>" in user:
        return [
            tool(
                "Bash",
                command=f"{launcher(messages)} council prepare",
                description="a file for the question",
            )
        ]
    match = re.search(r"PLEASE_SKILL (\S+)", user)
    if match:
        return [tool("Skill", skill=match.group(1), args="a second opinion please")]
    match = EDIT_RE.search(user)
    if match:
        return [tool("Write", file_path=match.group(1), content=BUGGY)]
    return say("MOCK-REPLY")


def launcher(messages: list[dict]) -> str | None:
    """MM, as the council command's own text defines it."""
    for m in messages:
        match = re.search(r"MM = `([^`]+/scripts/mm)`", text_of(m["content"]))
        if match:
            return match.group(1)
    return None


def after_bash(calls: list[dict], results: dict, messages: list[dict]) -> list[dict]:
    """After `prepare`: Write the question. After `start`/`next`: do what its JSON says."""
    command = calls[-1]["input"]["command"]
    output = text_of(results[calls[-1]["id"]].get("content"))
    if not STEP_RE.search(command):
        return say("MOCK-REPLY")
    if "council prepare" in command:
        question = re.search(
            r"<command-args>(.*?)</command-args>",
            "\n".join(text_of(m["content"]) for m in messages if m["role"] != "assistant"),
            re.S,
        ).group(1)
        return [tool("Write", file_path=parse_json(output)["question_file"], content=question)]
    step = parse_json(output)
    if step is None or "done" not in step:
        return say("COUNCIL-FAILED: " + output[:2000])
    if step["done"]:
        return say("COUNCIL-DONE\n" + str(step.get("report") or step.get("error")))
    then = tool("Bash", command=step["then"], description="the council's next step")
    if step.get("agent_calls"):
        agents = [tool("Agent", **agent_args(call)) for call in step["agent_calls"]]
        return agents if HOST == "notified" else [*agents, then]
    return [then]


def agent_args(call: dict) -> dict:
    """The Agent call as the step gave it; a `background` or `notified` host drops
    run_in_background, as a model that keeps the tool's default would."""
    if HOST in ("background", "notified"):
        return {k: v for k, v in call.items() if k != "run_in_background"}
    return dict(call)


def council_then(messages: list[dict]) -> list[dict]:
    """Run the newest step's `then` (or say the council is over)."""
    step = latest_step(messages)
    if step is None:
        return say("MOCK-REPLY")
    if step["done"]:
        return say("The council has finished.")
    return [tool("Bash", command=step["then"], description="the council's next step")]


def latest_step(messages: list[dict]) -> dict | None:
    """The JSON of the newest council step the model ran."""
    commands = {
        b["id"]: b["input"].get("command", "")
        for m in messages
        if m["role"] == "assistant" and isinstance(m["content"], list)
        for b in m["content"]
        if isinstance(b, dict) and b.get("type") == "tool_use"
    }
    for m in reversed(messages):
        for block in reversed(m["content"]) if isinstance(m["content"], list) else []:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                command = commands.get(block["tool_use_id"], "")
                step = parse_json(text_of(block.get("content")))
                if re.search(r"council (start|next)\b", command) and step and "done" in step:
                    return step
    return None


def parse_json(text: str) -> dict | None:
    start, end = text.find("{"), text.rfind("}")
    try:
        return json.loads(text[start : end + 1]) if start >= 0 else None
    except ValueError:
        return None


# --- the other commands: ask, detect, review --------------------------------------------------
# The model follows the expanded command text: ask runs `MM council prepare`, Writes the
# question (the arguments after the model list) to its question_file, runs
# `MM ask --models <models> --prompt-file <question_file>` and ends with "ASK-DONE" and the
# output; detect and review run the one command their step 1 spells (the plugin root and the
# arguments substituted by Claude Code) and end with "DETECT-DONE" / "REVIEW-DONE" and it.

COMMAND_RE = re.compile(r"<command-name>/multi-model:(ask|detect|review)</command-name>")
STEP1_RE = re.compile(r"1\. Run `([^`]+/scripts/mm (?:detect|review)\b[^`]*)`")


def command_turn(messages: list[dict]) -> list[dict] | None:
    """The next move for ask, detect or review; None when the conversation is none of them."""
    first_a = next((i for i, m in enumerate(messages) if m["role"] == "assistant"), len(messages))
    opening = "\n".join(text_of(m["content"]) for m in messages[:first_a])
    found = COMMAND_RE.search(opening)
    if not found:
        return None
    if first_a == len(messages):
        return command_start(found.group(1), opening, messages)
    last_a = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
    content = messages[last_a]["content"]
    calls = [
        b
        for b in (content if isinstance(content, list) else [])
        if isinstance(b, dict) and b.get("type") == "tool_use"
    ]
    results = {
        b["tool_use_id"]: text_of(b.get("content"))
        for m in messages[last_a + 1 :]
        if isinstance(m["content"], list)
        for b in m["content"]
        if isinstance(b, dict) and b.get("type") == "tool_result"
    }
    if not calls or calls[-1]["id"] not in results:
        return say("MOCK-REPLY")
    return command_next(found.group(1), calls[-1], results[calls[-1]["id"]], opening, messages)


def command_start(name: str, opening: str, messages: list[dict]) -> list[dict]:
    if name == "ask":
        return [
            tool(
                "Bash",
                command=f"{launcher(messages)} council prepare",
                description="a file for the question",
            )
        ]
    return [
        tool("Bash", command=STEP1_RE.search(opening).group(1).strip(), description=f"mm {name}")
    ]


def command_next(
    name: str, call: dict, output: str, opening: str, messages: list[dict]
) -> list[dict]:
    command = call["input"].get("command", "")
    if name == "ask" and call["name"] == "Bash" and command.endswith(" council prepare"):
        return [
            tool(
                "Write",
                file_path=parse_json(output)["question_file"],
                content=ask_arguments(opening)[1],
            )
        ]
    if name == "ask" and call["name"] == "Write":
        models = ask_arguments(opening)[0]
        return [
            tool(
                "Bash",
                command=f"{launcher(messages)} ask --models {models} "
                f"--prompt-file {call['input']['file_path']}",
                description="ask the models",
            )
        ]
    return say(f"{name.upper()}-DONE\n{output}")


def ask_arguments(opening: str) -> tuple[str, str]:
    """(models, question): the first word of the arguments, and the rest verbatim."""
    args = re.search(r"<command-args>(.*?)</command-args>", opening, re.S).group(1)
    models, question = re.match(r"\s*(\S+)\s(.*)\Z", args, re.S).groups()
    return models, question


# --- subagents (Claude seats) -----------------------------------------------------------------


def subagent_turn(messages: list[dict], model: str) -> list[dict]:
    last_a = max((i for i, m in enumerate(messages) if m["role"] == "assistant"), default=-1)
    if last_a < 0:
        prompt = text_of(messages[0]["content"])
        path = re.search(r"prompt file (\S+?)\.? and", prompt).group(1)
        return [tool("Read", file_path=path)]
    task = text_of(messages[-1]["content"])
    labels = sorted(set(LABEL_RE.findall(task)))
    if "You chair a council" in task:
        return say(seat_text("SYNTHESIS", model))
    token = re.search(r"`token`: exactly `([0-9a-f]+)`", task)  # its line precedes the answers
    if labels and token and '"ranking"' in task:
        ballot = json.dumps(
            {
                "token": token.group(1),
                "critiques": {lb: f"critique of {lb} from {model}" for lb in labels},
                "ranking": labels,
            }
        )
        return say(f"  \n{ballot}\n" if REPLIES == "tricky" else ballot)
    return say(seat_text("ANSWER", model))


def seat_text(kind: str, model: str) -> str:
    """A seat's reply: plain, or (tricky) with markup, entities, braces, quotes, leading
    spaces and blank lines; the opus answer of a tricky run is 40 KB."""
    text = f"{kind} from the subagent on {model}."
    if REPLIES == "tricky":
        text = f"  {text}\n\n<b>&amp; {{\"q\": 'x'}}</b> &lt;tag&gt;\n\n    indented\n\ttab\n"
        if kind == "ANSWER" and "opus" in model:
            text += "".join(f"line {i:05d} <i>&quot;{'x' * 60}&quot;</i>\n" for i in range(460))
    if kind == "ANSWER" and len(text) < ANSWER_BYTES:
        text += "\n" + "w" * (ANSWER_BYTES - len(text) - 1)
    return text


# --- plumbing ---------------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Server

    def log_message(self, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        try:
            if self.headers.get("x-claude-code-agent-id"):
                blocks = subagent_turn(body.get("messages", []), body.get("model", ""))
            else:
                blocks = main_turn(body.get("messages", []))
        except Exception as exc:  # noqa: BLE001 - the test reads this text in the result
            blocks = say(f"MOCK-ERROR: {exc!r}")
        with self.server.lock, open(self.server.log, "a", encoding="utf-8") as f:
            f.write(
                json.dumps(
                    {
                        "path": self.path,
                        "headers": dict(self.headers),
                        "body": body,
                        "reply": blocks,
                        "t": time.time(),
                    }
                )
                + "\n"
            )
        self.stream(body.get("model", "mock"), blocks)

    def stream(self, model: str, blocks: list[dict]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        usage = {
            "input_tokens": 10,
            "output_tokens": 1,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        self.event(
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_" + uuid.uuid4().hex[:12],
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": usage,
                },
            },
        )
        for i, block in enumerate(blocks):
            text = block["type"] == "text"
            start = {"type": "text", "text": ""} if text else {**block, "input": {}}
            delta = (
                {"type": "text_delta", "text": block["text"]}
                if text
                else {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
            )
            self.event(
                "content_block_start",
                {"type": "content_block_start", "index": i, "content_block": start},
            )
            self.event(
                "content_block_delta", {"type": "content_block_delta", "index": i, "delta": delta}
            )
            self.event("content_block_stop", {"type": "content_block_stop", "index": i})
        stop = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
        self.event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": 5},
            },
        )
        self.event("message_stop", {"type": "message_stop"})

    def event(self, name: str, data: dict) -> None:
        self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
        self.wfile.flush()


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, log: Path) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.log = log
        self.lock = threading.Lock()


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "contract"))
    # the contract tests' mock (same port file and lifetime), found on the path just added
    from mockserver import serve  # noqa: PLC0415 - see above

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port-file", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--lifetime", type=float, default=600.0)
    args = parser.parse_args(argv)
    return serve(Server(args.log), args.port_file, args.lifetime)


if __name__ == "__main__":
    sys.exit(main())
