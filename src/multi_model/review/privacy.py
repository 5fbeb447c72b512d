"""What may leave the machine for a review: secret redaction and limits (the deny list is
`denylist` and `deny`). Stdlib only (the edit hook imports it too)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

MAX_FILE_BYTES = 100_000
MAX_TOTAL_BYTES = 400_000
REDACTED = "[REDACTED]"

# (name, pattern): the whole match is replaced, or only group "s" when the pattern has one.
# Compiled on first use: the edit hook imports this module for its limits alone.
SECRET_PATTERNS: tuple[tuple[str, str], ...] = (
    (
        "private key block",
        r"-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY"
        r"(?: BLOCK)?-----",
    ),
    ("AWS access key id", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    (
        "AWS secret key",
        r"(?i)aws.{0,20}?(?:secret|key).{0,20}?[=:]\s*['\"]?"
        r"(?P<s>[A-Za-z0-9/+=]{40})\b",
    ),
    ("GitHub token", r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    ("GitHub fine-grained token", r"\bgithub_pat_[A-Za-z0-9_]{22,}\b"),
    ("GitLab token", r"\bglpat-[A-Za-z0-9_-]{20,}\b"),
    ("Anthropic key", r"\bsk-ant-[A-Za-z0-9_-]{20,}"),
    ("OpenAI key", r"\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,}"),
    ("Google API key", r"\bAIza[0-9A-Za-z_-]{35}\b"),
    ("Slack token", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    ("Stripe key", r"\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}\b"),
    ("npm token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    ("Hugging Face token", r"\bhf_[A-Za-z0-9]{30,}\b"),
    ("JSON web token", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ("password in URL", r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]+:(?P<s>[^\s@/]+)@"),
    ("bearer token", r"(?i)\bbearer\s+(?P<s>[A-Za-z0-9._~+/-]{16,}=*)"),
    ("Azure account key", r"(?i)AccountKey=(?P<s>[A-Za-z0-9+/=]{20,})"),
    (
        "assigned secret",
        r"(?i)\b[\w-]*?(?:password|passwd|pwd|secret|api[_-]?key|apikey|"
        r"access[_-]?key|auth[_-]?token|client[_-]?secret|token)\b"
        r"['\"]?\s*[=:]\s*['\"](?!\[REDACTED\]|[{$<%])(?P<s>[^'\"\s]{6,})['\"]",
    ),
)
_compiled: list[tuple[str, re.Pattern[str]]] = []


def redact(text: str) -> tuple[str, list[str]]:
    """`text` with secrets replaced by [REDACTED] (each line a secret touches keeps its line
    break), and the kinds found (one per redaction). The first layer of `redact.redact`."""
    return apply(text, secret_spans(text))


def secret_spans(text: str) -> list[tuple[int, int, float, str]]:
    """(start, end, layer, kind) of every match of SECRET_PATTERNS (group "s", or the whole
    match); layer in [0, 1) keeps the patterns' order, so the first listed names a span."""
    if not _compiled:
        _compiled.extend((name, re.compile(pattern)) for name, pattern in SECRET_PATTERNS)
    spans = []
    for i, (name, pattern) in enumerate(_compiled):
        group = "s" if "s" in pattern.groupindex else 0
        spans += [(*m.span(group), i / 100, name) for m in pattern.finditer(text)]
    return spans


def apply(text: str, spans: Iterable[tuple[int, int, float, str]]) -> tuple[str, list[str]]:
    """Replace the (start, end, layer, kind) spans, overlapping ones merged (the lowest layer
    names it), line by line so the text keeps its line structure; the kinds replaced."""
    merged: list[tuple[int, int, float, str]] = []
    for start, end, layer, kind in sorted(s for s in spans if s[1] > s[0]):
        if merged and start < merged[-1][1]:
            first, last_end, low, name = merged[-1]
            if layer < low:
                low, name = layer, kind
            merged[-1] = (first, max(last_end, end), low, name)
        else:
            merged.append((start, end, layer, kind))
    out, at = [], 0
    for start, end, _, _ in merged:
        pieces = text[start:end].split("\n")
        out += [text[at:start], "\n".join(REDACTED if p.strip() else p for p in pieces)]
        at = end
    out.append(text[at:])
    return "".join(out), [m[3] for m in merged]


def is_binary(data: bytes) -> bool:
    return b"\0" in data[:8192]


def kinds(found: Sequence[str]) -> str:
    counts: dict[str, int] = {}
    for name in found:
        counts[name] = counts.get(name, 0) + 1
    return ", ".join(f"{n} x{c}" if c > 1 else n for n, c in counts.items())
