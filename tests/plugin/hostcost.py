"""What a council costs its host, read from the scripted API's request log: the main
conversation's requests (host turns), the tool calls it made and the tokens it wrote (about
4 characters a token, counted on the replies the scripted host gave)."""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class HostCost:
    turns: int
    tool_calls: int
    output_chars: int

    @property
    def output_tokens(self) -> int:
        return round(self.output_chars / 4)


def host_cost(requests: list[dict]) -> HostCost:
    main = [r for r in requests if is_host(r)]
    blocks = [b for r in main for b in r.get("reply", [])]
    calls = [b for b in blocks if b["type"] == "tool_use"]
    chars = sum(
        len(b["text"])
        if b["type"] == "text"
        else len(b["name"]) + len(json.dumps(b["input"], ensure_ascii=False))
        for b in blocks
    )
    return HostCost(turns=len(main), tool_calls=len(calls), output_chars=chars)


def is_host(request: dict) -> bool:
    """A request of the main conversation: not a subagent's, nor one of Claude Code's side
    queries (no system prompt; e.g. a digest of a long tool result)."""
    return not is_subagent(request) and bool(request["body"].get("system"))


def is_subagent(request: dict) -> bool:
    """Claude Code marks a subagent's requests with its agent id header."""
    return any(k.lower() == "x-claude-code-agent-id" for k in request["headers"])
