"""An in-process scripted provider for unit tests of logic above the runner (the
`MockModel` tier): no process, no network, every call recorded.

    scripted.enqueue("first answer", Parsed(status="rate_limited"), model="m1")
    dispatch(["scripted:m1"], "prompt") -> answers in the order enqueued for that model
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from multi_model import providers
from multi_model.models import Parsed, Request
from multi_model.providers.base import InProcessProvider

Reply = str | Parsed | Exception | Callable[[Request], Parsed]


@dataclass(frozen=True)
class Delayed:
    """A reply given after `seconds` (to test ordering and parallelism without processes)."""

    seconds: float
    reply: str | Parsed


class ScriptedProvider(InProcessProvider):
    name = "scripted"
    catalog = ("m1", "m2")

    def __init__(self) -> None:
        self._queues: dict[str | None, list[Reply | Delayed]] = {}
        self._lock = threading.Lock()
        self.calls: list[Request] = []

    def enqueue(self, *replies: Reply | Delayed, model: str | None = None) -> None:
        """Replies for `model` (None: any model without its own queue); the last repeats."""
        with self._lock:
            self._queues.setdefault(model, []).extend(replies)

    def answer(self, req: Request) -> Parsed:
        with self._lock:
            self.calls.append(req)
            queue = self._queues.get(req.model) or self._queues.get(None) or ["scripted answer"]
            reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, Delayed):
            time.sleep(reply.seconds)
            reply = reply.reply
        if isinstance(reply, Exception):
            raise reply
        if callable(reply):
            return reply(req)
        return Parsed(text=reply) if isinstance(reply, str) else reply


@pytest.fixture
def scripted() -> Iterator[ScriptedProvider]:
    provider = ScriptedProvider()
    providers.register(provider)
    try:
        yield provider
    finally:
        providers.unregister(provider.name)
