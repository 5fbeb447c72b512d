"""External review of a change: `review(targets, models)` -> findings merged across reviewers.

    change    what to send: the working tree's diff against HEAD, or named files; files on the
              deny list never leave the machine, secrets are redacted, binaries and oversize
              content are skipped (each with a note)
    engine    the prompt (nonce-framed untrusted data, a strict JSON reply), the reviewers in
              parallel, the result and its Markdown
    merge     `{"findings": [{file, line, severity, title, detail, suggestion}]}` parsed through
              the same extract -> schema -> model pipeline as council ballots; one finding per
              (file, nearby line, same issue), with the reviewers that raised it

The Claude Code hooks (`hook`, `session`, `privacy`: stdlib only) record Claude's edits per
session; one background `watch` process per session reviews them in batches.
Names are imported lazily, so the hooks can import the stdlib modules of this package
without loading pydantic.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not `from typing`: the hooks import this package

__all__ = ["Finding", "ReviewResult", "collect", "review"]

if TYPE_CHECKING:
    from typing import Any

    from multi_model.review.change import collect
    from multi_model.review.engine import ReviewResult, review
    from multi_model.review.merge import Finding


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'multi_model.review' has no attribute {name!r}")
    # lazy: the hooks import this package's stdlib modules and must not load pydantic
    from multi_model.review import change, engine, merge  # noqa: PLC0415 - start-up, see above

    owner = {"collect": change, "Finding": merge}.get(name, engine)
    return getattr(owner, name)
