#!/usr/bin/env python3
"""DEMO stand-in for the codex, gemini and cursor-agent CLIs (`mm ask --demo`).

Not a model: it prints a canned, deterministic "perspective" on the prompt in the real CLI's
output format, so the demo exercises the real pipeline (routing, runner, adapters' parse).
`multi_model.demo.setup` copies this file under each CLI's name, with a shebang naming the
running interpreter; the name it was started as picks the format. Stdlib only.

    codex         `exec --json ... -`        JSONL events, prompt on stdin
    gemini        `-p "" -o json ...`        one JSON object, prompt on stdin (+ the -p text)
    cursor-agent  `--print --output-format json ...`  one `result` line, prompt on stdin

Every CLI answers `--version`; unknown flags are ignored. Sleeps a fixed, per-CLI time so
that the demo shows the calls running in parallel.
"""

import hashlib
import json
import os
import re
import sys
import time

VERSIONS = {
    "codex": "codex-cli 0.0.0-demo",
    "gemini": "0.0.0-demo",
    "cursor-agent": "2026.01.01-demo",
}
DELAYS_S = {"codex": 0.5, "gemini": 0.8, "cursor-agent": 0.3}
PERSPECTIVES = {
    "codex": (
        "implementation first",
        "I would start with the smallest change that works, then pin it with a test.",
    ),
    "gemini": (
        "big picture",
        "I would first ask which constraints matter most, then compare two designs.",
    ),
    "cursor-agent": (
        "devil's advocate",
        "I would look for what could go wrong: edge cases, failure modes, costs.",
    ),
}
VALUE_FLAGS = {
    "-m",
    "--model",
    "-o",
    "--output-format",
    "-p",
    "--mode",
    "-c",
    "--sandbox",
    "-s",
    "--approval-mode",
    "--resume",
    "--workspace",
    "-C",
}


def flag_values(argv: list[str]) -> dict[str, str]:
    """{flag: value} for the flags that take one (the others are ignored)."""
    values: dict[str, str] = {}
    for i, arg in enumerate(argv[:-1]):
        if arg in VALUE_FLAGS:
            values[arg] = argv[i + 1]
    return values


BLOCK = re.compile(r"<<<BEGIN \S+ (Response [A-Z]+)>>>\n(.*?)\n<<<END ", re.S)
FILE_BLOCK = re.compile(r"<<<BEGIN (\S+) (.+?)>>>\n(.*?)\n<<<END \1 \2>>>", re.S)
TOKEN = re.compile(r"`token`: exactly `([0-9a-f]+)`")
AUTHOR = re.compile(r"\[DEMO stand-in for ([a-z-]+)\]")
TASTE = ("codex", "gemini", "cursor-agent")  # the demo's "quality": implementation first
PARTISAN = "cursor-agent"  # the devil's advocate puts its own answer first: the demo's dissent
HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)")
HEADERS = re.compile(r"(?m)^(@@ -\d|diff --git |new content \(whole file\):)")
SUSPECTS = (
    ("eval(", "high", "eval() on data"),
    ("exec(", "high", "exec() on data"),
    ("TODO", "low", "unfinished TODO"),
)


def answer(cli: str, prompt: str) -> str:
    """The canned answer, or, for a council's review and synthesis prompts, a ballot or a
    synthesis: enough for the real pipeline to run every stage."""
    if '"findings"' in prompt and "# CHANGE" in prompt:
        return findings(cli, prompt)
    blocks = dict(BLOCK.findall(prompt))
    token = TOKEN.search(prompt)
    if blocks and token and '"ranking"' in prompt:
        return ballot(cli, blocks, token.group(1))
    if blocks:
        return synthesis(cli, blocks)
    return perspective(cli, prompt)


def ballot(cli: str, blocks: dict[str, str], token: str) -> str:
    """A valid JSON ballot, critiques first: this stand-in's fixed taste, not a judgement. All
    rank the stand-ins' answers by TASTE, except PARTISAN, which puts its own first (so a demo
    council has a winner, a dissenting reviewer and a self-preference to show); answers from
    elsewhere come last, in a per-stand-in order. The token is the first the prompt names (the
    task's, which comes before the answers)."""
    authors = {label: author_of(text) for label, text in blocks.items()}

    def taste(label: str) -> tuple[int, str]:
        author = authors[label]
        if cli == PARTISAN and author == cli:
            return (-1, "")
        if author in TASTE:
            return (TASTE.index(author), "")
        return (len(TASTE), hashlib.sha256(f"{cli}|{blocks[label]}".encode()).hexdigest())

    order = sorted(blocks, key=taste)
    critiques = {label: critique(cli, authors[label], blocks[label]) for label in sorted(blocks)}
    return (
        "[DEMO ballot]\n```json\n"
        + json.dumps({"token": token, "critiques": critiques, "ranking": order}, indent=2)
        + "\n```"
    )


def author_of(text: str) -> str:
    match = AUTHOR.search(text)
    return match.group(1) if match else ""


def critique(cli: str, author: str, text: str) -> str:
    if author in PERSPECTIVES:
        angle, _ = PERSPECTIVES[author]
        verdict = (
            "my own view, and the one to follow"
            if author == cli == PARTISAN
            else ("the most actionable" if author == TASTE[0] else "useful, less concrete")
        )
        return f"[DEMO] canned critique from the {cli} stand-in: the {angle} answer, {verdict}."
    digest = hashlib.sha256(text.encode()).hexdigest()[:8]
    return f"[DEMO] canned critique from the {cli} stand-in: an answer it cannot read ({digest})."


def findings(cli: str, prompt: str) -> str:
    """A review reply: one canned finding per line that contains eval(, exec( or TODO (line
    numbers from the hunk headers, or counted in a whole file: a new file's content, or a
    named file's, which has no header at all); none otherwise."""
    found: list[dict[str, object]] = []
    for _, path, text in FILE_BLOCK.findall(prompt):
        whole = not HEADERS.search(text)
        line = 1 if whole else None
        for row in text.splitlines():
            start = HUNK.match(row)
            if start:
                line = int(start.group(1))
                continue
            if row.startswith("new content (whole file):"):
                line = 1
                continue
            if line is None or (
                not whole and row.startswith(("-", "diff --git", "index ", "+++", "---"))
            ):
                continue
            for needle, severity, title in SUSPECTS:
                if needle in row:
                    found.append(
                        {
                            "file": path,
                            "line": line,
                            "severity": severity,
                            "title": f"[DEMO] {title}",
                            "detail": f"Canned finding from the {cli} stand-in: the line "
                            f"contains {needle!r}.",
                            "suggestion": "A real reviewer would say what to do.",
                        }
                    )
            line += 1
    return json.dumps({"findings": found})


def synthesis(cli: str, blocks: dict[str, str]) -> str:
    return (
        f"[DEMO synthesis by the {cli} stand-in] The council saw {len(blocks)} answers. "
        "A real chairman would merge their strongest points here and note where they "
        "disagree.\n\n(Canned text from a bundled stand-in executable; no model was asked.)"
    )


def perspective(cli: str, prompt: str) -> str:
    """The canned answer: a label, the prompt's first line, and this CLI's point of view."""
    lines = prompt.strip().splitlines() or [""]
    first = lines[0].strip()
    if len(first) > 100:
        first = first[:99] + "..."
    angle, view = PERSPECTIVES[cli]
    return (
        f'[DEMO stand-in for {cli}] You asked: "{first}"\n\n'
        f"Perspective ({angle}): {view}\n\n"
        "(Canned text from a bundled stand-in executable; no model was asked.)"
    )


def session_id(cli: str, prompt: str) -> str:
    digest = hashlib.sha256(f"{cli}\n{prompt}".encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def codex(prompt: str, flags: dict[str, str]) -> str:
    text = answer("codex", prompt)
    events = [
        {"type": "thread.started", "thread_id": session_id("codex", prompt)},
        {"type": "turn.started"},
        {"type": "item.completed", "item": {"id": "item_0", "type": "agent_message", "text": text}},
        {
            "type": "turn.completed",
            "usage": {
                "input_tokens": len(prompt.split()),
                "cached_input_tokens": 0,
                "output_tokens": len(text.split()),
                "reasoning_output_tokens": 0,
            },
        },
    ]
    return "".join(json.dumps(e) + "\n" for e in events)


def gemini(prompt: str, flags: dict[str, str]) -> str:
    text = answer("gemini", prompt)
    tokens = {
        "input": len(prompt.split()),
        "prompt": len(prompt.split()),
        "candidates": len(text.split()),
        "cached": 0,
        "thoughts": 0,
        "tool": 0,
    }
    tokens["total"] = tokens["input"] + tokens["candidates"]
    model = flags.get("-m") or flags.get("--model") or "gemini-demo"
    doc = {
        "session_id": session_id("gemini", prompt),
        "response": text,
        "stats": {
            "models": {
                model: {
                    "api": {
                        "totalRequests": 1,
                        "totalErrors": 0,
                        "totalLatencyMs": int(DELAYS_S["gemini"] * 1000),
                    },
                    "tokens": tokens,
                }
            }
        },
    }
    return json.dumps(doc, indent=2) + "\n"


def cursor_agent(prompt: str, flags: dict[str, str]) -> str:
    ms = int(DELAYS_S["cursor-agent"] * 1000)
    doc = {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "duration_ms": ms,
        "duration_api_ms": ms,
        "result": answer("cursor-agent", prompt),
        "session_id": session_id("cursor-agent", prompt),
    }
    return json.dumps(doc) + "\n"


FORMATS = {"codex": codex, "gemini": gemini, "cursor-agent": cursor_agent}


def read_prompt(cli: str, flags: dict[str, str]) -> str:
    piped = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
    extra = flags.get("-p", "") if cli == "gemini" else ""
    return piped + ("\n\n" + extra if piped and extra else extra)


def status_command(cli: str, argv: list[str]) -> bool:
    """Login checks (`codex login status`, `cursor-agent status`): always logged in."""
    return (cli == "codex" and argv[:2] == ["login", "status"]) or (
        cli == "cursor-agent" and argv[:1] == ["status"]
    )


def main(argv: list[str]) -> int:
    cli = os.path.basename(sys.argv[0])
    if cli not in FORMATS:
        sys.stderr.write(f"demo stand-in: unknown CLI name {cli!r}\n")
        return 2
    if argv[:1] in (["--version"], ["-v"], ["-V"]):
        print(VERSIONS[cli])
        return 0
    if status_command(cli, argv):
        print("Logged in (DEMO stand-in; no account involved)")
        return 0
    flags = flag_values(argv)
    prompt = read_prompt(cli, flags)
    if not prompt.strip():
        sys.stderr.write(f"[DEMO stand-in for {cli}] no prompt on stdin\n")
        return 1
    time.sleep(float(os.environ.get("MM_DEMO_DELAY_S", DELAYS_S[cli])))
    sys.stdout.write(FORMATS[cli](prompt, flags))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
