"""Is a Claude seat's reply a reply? Claude Code wraps and announces subagents in ways that
must never be recorded as a seat's answer or ballot: the launch notice of a background agent,
the hand-back frame of a foreground one, its agent-id and usage trailers, a task
notification. An empty reply, or one that only repeats what the seat was asked, is no reply
either. Each check names what it found, so a host (or a person) can tell what went wrong.
"""

from __future__ import annotations

import re

NOTICES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"\A\s*Async agent launched successfully"),
        "it is Claude Code's notice that the agent was launched in the background "
        '("Async agent launched successfully ..."), not the agent\'s reply',
    ),
    (
        re.compile(r"\[Subagent hand-back\]"),
        'it holds Claude Code\'s hand-back frame ("[Subagent hand-back] ...", every line '
        "indented): the agent's reply is the text inside it, unframed",
    ),
    (
        re.compile(r"</?task-notification>"),
        "it holds a Claude Code <task-notification>, not the agent's reply",
    ),
    (
        re.compile(r"</?tools-used-before-summary>"),
        "it holds Claude Code's <tools-used-before-summary> frame, not the agent's reply",
    ),
    (
        re.compile(r"^agentId: \S+[^\n]*(?:\n\s*<usage>.*?</usage>)?\s*\Z", re.M | re.S),
        'it ends with Claude Code\'s "agentId: ..." trailer',
    ),
    (re.compile(r"<usage>.*</usage>\s*\Z", re.S), "it ends with Claude Code's <usage> trailer"),
)


def problems(text: str, asked: tuple[str, ...] = ()) -> list[str]:
    """Why `text` is not a seat's reply (empty when it is). `asked`: what the seat was sent
    (the task's prompt, the Agent call's prompt); a reply equal to one of them is refused."""
    if not text.strip():
        return ["the reply is empty"]
    found = [f"not a reply: {why}" for pattern, why in NOTICES if pattern.search(text)]
    if any(a.strip() and text.strip() == a.strip() for a in asked):
        found.append("not a reply: it is the seat's own prompt, repeated")
    return found
