"""A scripted Anthropic Messages API for driving the real Claude Code headless (stdlib only,
127.0.0.1 only). The "model" here follows the plugin's own instructions the way Claude would.

    python claudeapi.py --port-file F --log L [--lifetime 600]

Every request is appended to the log as one JSON line (path, headers, body). Replies stream
as SSE. The reply is chosen from the tail of the conversation (everything after the last
assistant message), never by re-reading the first turn once the model has acted, so a run
cannot loop:

Main conversation
  - first turn, `/multi-model:council` expanded: step 1, a Write of the question to the
    folder the command names; after it, `MM council start` (MM from the command's text);
  - after a council step's JSON: one Agent call per task (all in one message), or the `next`
    step, or the same step again on exit 7; after Agent results: one Write per seat of its
    final message to the task's output file; after the Writes: the `next` step (or the same
    one again if it had not finished); after `result`: a final text quoting the report;
  - first turn containing `PLEASE_SKILL <name>`: a Skill call; after it: SKILL-DONE;
  - first turn containing `PLEASE_EDIT <path> [wait=S]`: a Write of code with an eval() to
    <path>; after it, S seconds later: a Read of <path>; after the Read: EDIT-DONE;
  - anything else (a Stop hook's feedback included): MOCK-REPLY.
Subagents (`x-claude-code-agent-id` header)
  - first turn: Read the prompt file named in the prompt; after the Read: the seat's reply,
    a JSON ballot over the labels shown, a synthesis, or an answer naming the model it ran on.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

EDIT_RE = re.compile(r"PLEASE_EDIT (\S+)(?: wait=([\d.]+))?")
BUGGY = "import os\nprint(eval(os.environ['EXPR']))\n"
STEP_RE = re.compile(r"council (prepare|start|rank|synthesize|result)\b")
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
    return {"type": "tool_use", "id": "toolu_" + uuid.uuid4().hex[:20], "name": name,
            "input": args}


def say(text: str) -> list[dict]:
    return [{"type": "text", "text": text}]


# --- the main conversation -------------------------------------------------------------------

def main_turn(messages: list[dict]) -> list[dict]:
    last_a = max((i for i, m in enumerate(messages) if m["role"] == "assistant"), default=-1)
    tail = messages[last_a + 1:]
    results = {b["tool_use_id"]: b for m in tail if isinstance(m["content"], list)
               for b in m["content"] if isinstance(b, dict) and b.get("type") == "tool_result"}
    if last_a < 0:
        return first_turn(messages)
    if not results:
        return say("MOCK-REPLY")
    calls = [b for b in messages[last_a]["content"] if isinstance(b, dict)
             and b.get("type") == "tool_use"]
    mm = launcher(messages)
    if calls and calls[0]["name"] == "Agent":
        return [tool("Write", file_path=output_file(call, messages),
                     content=agent_reply(results[call["id"]])) for call in calls]
    if calls and calls[0]["name"] == "Write" and not mm:
        match = EDIT_RE.search(text_of(messages[0]["content"]))
        time.sleep(float(match.group(2) or 0) if match else 0)
        return [tool("Read", file_path=calls[0]["input"]["file_path"])]
    if calls and calls[0]["name"] == "Read":
        return say("EDIT-DONE")
    if calls and calls[0]["name"] == "Write" and mm:
        path = calls[0]["input"]["file_path"]
        if "/questions/" in path:
            return [tool("Bash", command=f"{mm} council start --format json --prompt-file {path}",
                         description="start the council")]
        return next_step(mm, messages)
    if calls and calls[0]["name"] == "Bash" and mm:
        return after_bash(mm, calls, results, messages)
    if calls and calls[0]["name"] == "Skill":
        return say("SKILL-DONE")
    return say("MOCK-REPLY")


def first_turn(messages: list[dict]) -> list[dict]:
    user = "\n".join(text_of(m["content"]) for m in messages if m["role"] != "assistant")
    if "<command-name>/multi-model:council</command-name>" in user:
        return [tool("Bash", command=f"{launcher(messages)} council prepare",
                     description="a file for the question")]
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


def agent_reply(result: dict) -> str:
    """The subagent's final message: the first text block (Claude Code appends an agentId
    and usage note as further blocks)."""
    content = result.get("content")
    if isinstance(content, list):
        return next((b.get("text", "") for b in content if b.get("type") == "text"), "")
    return str(content or "")


def output_file(call: dict, messages: list[dict]) -> str:
    """The output file of the task whose prompt file this Agent call was given."""
    prompt_file = re.search(r"prompt file (\S+?)\.? and", call["input"]["prompt"]).group(1)
    for task in latest_step(messages)[1]["tasks"]:
        if task["prompt_file"] == prompt_file:
            return task["output_file"]
    raise RuntimeError(f"no task with the prompt file {prompt_file}")


def after_bash(mm: str, calls: list[dict], results: dict, messages: list[dict]) -> list[dict]:
    command = calls[-1]["input"]["command"]
    output = text_of(results[calls[-1]["id"]].get("content"))
    found = STEP_RE.search(command)
    if not found:
        return say("MOCK-REPLY")
    if "council prepare" in command:
        question = re.search(r"<command-args>(.*?)</command-args>", "\n".join(
            text_of(m["content"]) for m in messages if m["role"] != "assistant"), re.S).group(1)
        return [tool("Write", file_path=parse_json(output)["question_file"], content=question)]
    if found.group(1) == "result":
        return say("COUNCIL-DONE\n" + output)
    step = parse_json(output)
    if step is None:
        return say("COUNCIL-FAILED: " + output[:2000])
    if step["tasks"]:
        return [tool("Agent", subagent_type=t["agent"], description=f"{t['seat']} {t['stage']}",
                     prompt=f"Read the prompt file {t['prompt_file']} and do what it asks.")
                for t in step["tasks"]]
    return next_step(mm, messages)


def latest_step(messages: list[dict]) -> tuple[str, dict]:
    """The newest council step the model ran: (its Bash command, its JSON)."""
    commands = {b["id"]: b["input"].get("command", "") for m in messages
                if m["role"] == "assistant" and isinstance(m["content"], list)
                for b in m["content"] if isinstance(b, dict) and b.get("type") == "tool_use"}
    for m in reversed(messages):
        for block in m["content"] if isinstance(m["content"], list) else []:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                command = commands.get(block["tool_use_id"], "")
                step = parse_json(text_of(block.get("content")))
                if STEP_RE.search(command) and step and "tasks" in step:
                    return command, step
    raise RuntimeError("no council step in the conversation")


def next_step(mm: str, messages: list[dict]) -> list[dict]:
    command, step = latest_step(messages)
    if not step["done"]:
        return [tool("Bash", command=command, description="the same council step again")]
    return [tool("Bash", command=f"{mm} {step['next'][3:]} --format json",
                 description="next council step")]


def parse_json(text: str) -> dict | None:
    start, end = text.find("{"), text.rfind("}")
    try:
        return json.loads(text[start:end + 1]) if start >= 0 else None
    except ValueError:
        return None


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
        return say(f"SYNTHESIS by the subagent on {model}: the council's answer.")
    if labels and '"ranking"' in task:
        return say(json.dumps({"ranking": labels,
                               "critiques": {lb: f"critique from {model}" for lb in labels}}))
    return say(f"ANSWER from the subagent on {model}.")


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
        with self.server.lock, open(self.server.log, "a", encoding="utf-8") as f:
            f.write(json.dumps({"path": self.path, "headers": dict(self.headers),
                                "body": body}) + "\n")
        try:
            if self.headers.get("x-claude-code-agent-id"):
                blocks = subagent_turn(body.get("messages", []), body.get("model", ""))
            else:
                blocks = main_turn(body.get("messages", []))
        except Exception as exc:  # noqa: BLE001 - the test reads this text in the result
            blocks = say(f"MOCK-ERROR: {exc!r}")
        self.stream(body.get("model", "mock"), blocks)

    def stream(self, model: str, blocks: list[dict]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        usage = {"input_tokens": 10, "output_tokens": 1, "cache_creation_input_tokens": 0,
                 "cache_read_input_tokens": 0}
        self.event("message_start", {"type": "message_start", "message": {
            "id": "msg_" + uuid.uuid4().hex[:12], "type": "message", "role": "assistant",
            "model": model, "content": [], "stop_reason": None, "stop_sequence": None,
            "usage": usage}})
        for i, block in enumerate(blocks):
            text = block["type"] == "text"
            start = {"type": "text", "text": ""} if text else {**block, "input": {}}
            delta = ({"type": "text_delta", "text": block["text"]} if text else
                     {"type": "input_json_delta", "partial_json": json.dumps(block["input"])})
            self.event("content_block_start", {"type": "content_block_start", "index": i,
                                               "content_block": start})
            self.event("content_block_delta", {"type": "content_block_delta", "index": i,
                                               "delta": delta})
            self.event("content_block_stop", {"type": "content_block_stop", "index": i})
        stop = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
        self.event("message_delta", {"type": "message_delta", "delta": {
            "stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": 5}})
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
    from mockserver import serve  # the contract tests' mock: same port file and lifetime

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port-file", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--lifetime", type=float, default=600.0)
    args = parser.parse_args(argv)
    return serve(Server(args.log), args.port_file, args.lifetime)


if __name__ == "__main__":
    sys.exit(main())
