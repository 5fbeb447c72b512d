"""Route patterns on a bounded engine: the `regex` package matches with a timeout, while
stdlib `re` cannot be interrupted (`(a|a)+b` backtracks for hours on a 40-character name).

Patterns written in this package (the providers' families, the Claude names) are declared
with `trust`: they are linear, so they run on stdlib `re`. `regex` (~6 ms to import) is
loaded only when a pattern from a config file is compiled, which most commands never do.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

_TRUSTED: set[str] = set()


class PatternError(ValueError):
    """A route pattern that does not compile."""


def trust(*patterns: str) -> None:
    """Declare patterns this package writes: matched on stdlib `re`, without a timeout."""
    _TRUSTED.update(patterns)


@cache
def compiled(pattern: str) -> Any:
    """`pattern`, compiled case-insensitively; raises PatternError."""
    if pattern in _TRUSTED:
        return re.compile(pattern, re.IGNORECASE)
    import regex  # noqa: PLC0415 - start-up: only an untrusted (config) pattern needs it

    try:
        return regex.compile(pattern, regex.IGNORECASE)
    except regex.error as exc:
        raise PatternError(str(exc)) from None


def fullmatch(pattern: str, text: str, timeout: float) -> bool:
    """Whether `pattern` matches all of `text`; raises TimeoutError past `timeout` seconds."""
    if pattern in _TRUSTED:
        return compiled(pattern).fullmatch(text) is not None
    return bool(compiled(pattern).fullmatch(text, timeout=timeout))
