"""A seat's reply must be a reply: Claude Code's own notices, frames and trailers, empty text
and the seat's own prompt are refused with a precise reason; real replies pass untouched."""

from __future__ import annotations

import pytest

from multi_model.council.hosted.replies import problems

LAUNCHED = (
    "Async agent launched successfully.\nagentId: a1b2c3 (internal ID - do not "
    "mention to user. Use SendMessage with to: 'a1b2c3' to continue this agent.)\n"
    "The agent is working in the background. You will be notified automatically "
    "when it completes."
)
HANDBACK = (
    "<tools-used-before-summary>Read</tools-used-before-summary>\n[Subagent hand-back] "
    "The text below is the final report of the subagent.\n  ANSWER line one\n  line "
    "two\nagentId: a1b2c3\n<usage>total_tokens: 10\ntool_uses: 1</usage>"
)
NOTIFIED = (
    "<task-notification><task-id>a1</task-id><status>completed</status><result>ANSWER"
    "</result></task-notification>"
)


@pytest.mark.parametrize(
    "text, reason",
    [
        ("", "the reply is empty"),
        ("  \n\t\n", "the reply is empty"),
        (LAUNCHED, "launched in the background"),
        (HANDBACK, "hand-back frame"),
        (NOTIFIED, "<task-notification>"),
        ("ANSWER\n\nagentId: a1b2c3 (internal)\n", '"agentId: ..." trailer'),
        ("ANSWER\n<usage>total_tokens: 5</usage>\n", "<usage> trailer"),
        ("Read the prompt file /x/tasks/answer/opus.prompt.md and do what it asks.", "own prompt"),
        ("  What is 2+2?\n", "own prompt"),
    ],
)
def test_platform_text_and_empty_or_echoed_replies_are_refused(text: str, reason: str) -> None:
    found = problems(
        text,
        (
            "Read the prompt file /x/tasks/answer/opus.prompt.md and do what it asks.",
            "What is 2+2?",
        ),
    )
    assert found and any(reason in p for p in found), found


@pytest.mark.parametrize(
    "text",
    [
        "  leading spaces\n\n<b>&amp; {\"q\": 'x'}\n  indented line\n",
        '{"ranking": ["Response A"], "critiques": {"Response A": "fine"}}',
        "The agentId: field of the API is a string; usage is metered.\nSecond line.",
        "Use <usage> tags like <usage>this</usage> in the middle of a sentence, then go on.",
        "4",
    ],
)
def test_real_replies_pass(text: str) -> None:
    assert problems(text, ("What is 2+2?",)) == []
