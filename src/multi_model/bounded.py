"""Route patterns on a bounded engine: the `regex` package matches with a timeout, while
stdlib `re` cannot be interrupted (`(a|a)+b` backtracks for hours on a 40-character name)."""

from __future__ import annotations

from functools import cache
from typing import Any

import regex as _engine

PatternError: type[Exception] = _engine.error


@cache
def compiled(pattern: str) -> Any:
    """`pattern`, compiled case-insensitively; raises PatternError."""
    return _engine.compile(pattern, _engine.IGNORECASE)


def fullmatch(pattern: str, text: str, timeout: float) -> bool:
    """Whether `pattern` matches all of `text`; raises TimeoutError past `timeout` seconds."""
    return bool(compiled(pattern).fullmatch(text, timeout=timeout))
