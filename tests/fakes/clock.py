"""A fake clock for the failover loop: waiting moves it on at once, so backoff costs no time."""

from __future__ import annotations

import threading
import time


class FakeClock:
    """`monotonic` starts at 0 and moves only when the loop waits; `time` is the real wall
    clock plus the waited seconds (the state store compares cooling times with the real one)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []
        self._lock = threading.Lock()  # one clock serves every thread of a dispatch

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return time.time() + self.now

    def wait(self, cancel: threading.Event, seconds: float) -> bool:
        with self._lock:
            self.waits.append(seconds)
            self.now += seconds
        return cancel.is_set()
