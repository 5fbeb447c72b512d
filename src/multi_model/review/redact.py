"""Layered secret redaction for everything a review sends (diff hunk headers and context lines
included): the stdlib patterns of `privacy`, this module's patterns for what those miss
(private key bodies without BEGIN/END in view, passwords in config files, service keys, keys
split across two string literals), and the detectors of detect-secrets run on every line.
Each layer reports spans; overlapping spans are merged and replaced line by line, so a
redacted text keeps its line structure (line numbers in findings stay right)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import PurePosixPath

from detect_secrets.core import scan
from detect_secrets.settings import default_settings

from multi_model.review import privacy

Span = tuple[int, int, float, str]  # start, end, layer (lower wins the name), kind

_KEYS = (
    r"pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|"
    r"private[_-]?key|auth|credentials?|client[_-]?secret|signing[_-]?key|"
    r"encryption[_-]?key|sas|conn(?:ection)?[_-]?str(?:ing)?"
)
_PASSWORD_KEY = re.compile(r"(?i)pass|pwd|secret")
# (name, pattern): group "s" is the secret when the pattern has one, else the whole match.
PATTERNS: tuple[tuple[str, str], ...] = (
    ("password in URL", r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@'\"]*:(?P<s>[^\s@/'\"]+)@"),
    ("Slack webhook", r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<s>[\w/-]{10,})"),
    (
        "Azure shared key",
        r"(?i)\b(?:SharedAccessKey|SharedSecretValue|AccountKey|"
        r"SharedAccessSignature)\s*=\s*(?P<s>[\w+/%=-]{8,})",
    ),
    ("Azure SAS signature", r"[?&]sig=(?P<s>[A-Za-z0-9%+/=]{16,})"),
    ("npm auth token", r"(?i)(?<!\w)_auth(?:Token)?\s*=\s*[\"']?(?P<s>[^\s'\"]{8,})"),
    ("Twilio key", r"\b(?:AC|SK)[0-9a-fA-F]{32}\b"),
    ("Twilio auth token", r"AC[0-9a-fA-F]{32}[\"']?\s*,\s*[\"'](?P<s>[0-9a-fA-F]{32})"),
    ("Telegram bot token", r"\b\d{8,10}:AA[\w-]{33}\b"),
    (
        "long base64",
        r"(?<![\w+/])(?=[\w+/]*\d)(?=[\w+/]*[A-Z])(?=[\w+/]*[a-z])"
        r"[A-Za-z0-9+/]{120,}={0,2}",
    ),
    ("SendGrid key", r"\bSG\.[\w-]{16,}\.[\w-]{16,}"),
    ("Mailgun key", r"\bkey-[0-9a-zA-Z]{32}\b|\b[0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8}\b"),
    ("base64 private key", r"\bLS0tLS1CRUdJTi[A-Za-z0-9+/=]*"),
    ("escaped private key", r"PRIVATE KEY-----(?P<s>(?:\\[nr]|[A-Za-z0-9+/=])+?)(?=-----END|\"|$)"),
    ("basic auth", r"(?i)\bBasic\s+(?P<s>[A-Za-z0-9+/]{12,}={0,2})"),
    ("XML credential", r"(?i)<(?:password|passwd|secret|token|api[_-]?key)>(?P<s>[^<]{4,})</"),
    (
        "secret flag",
        r"(?i)--(?:password|passwd|token|api-key|secret)[= ](?P<s>[^\s'\"-][^\s'\"]{3,})",
    ),
    (
        "JSON credential",
        r"\"(?P<k>auth|identitytoken|registrytoken|password|secret)\"\s*:\s*"
        r"\"(?P<s>[^\"]{6,})\"",
    ),
    (
        "assigned secret",
        rf"(?i)(?P<k>\b[\w.-]*?(?:{_KEYS})[\w.-]*)['\"]?\s*(?::=|=>|[:=])\s*"
        r"[(\[]?\s*[bru]?(['\"])(?P<s>[^'\"\s]{6,})\2",
    ),
)
# An assignment without quotes: config files, .env, shell `export X=`.
_BARE = re.compile(
    rf"(?i)^[+\- ]?\s*(?:-\s+)?(?:export\s+|set\s+)?(?P<k>[\w.-]*(?:{_KEYS})[\w.-]*)"
    r"\s*[:=]\s*(?P<s>[^\s'\";,]{4,})"
)
_CONFIG_SUFFIXES = {
    "",
    ".yaml",
    ".yml",
    ".ini",
    ".cfg",
    ".conf",
    ".env",
    ".sh",
    ".bash",
    ".zsh",
    ".properties",
    ".toml",
    ".txt",
    ".npmrc",
    ".md",
    ".envrc",
}
_NOT_A_VALUE = re.compile(
    r"^(?:(?i:true|false|null|none|nil|yes|no|required|optional)|"
    r"\[REDACTED\].*|[$%<{].*|.*\($|[A-Z][A-Z0-9_]*|[~./].*|https?:.*)$"
)
_WORDS = re.compile(r"^[a-z_.\-/]+$")
_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----")
_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----")
_B64 = re.compile(r"^[+\- ]?\s*[\"']?(?P<s>[A-Za-z0-9+/]{%d,}={0,2})(?:\\n)?[\"']?,?\s*$")
_B64_LONG, _B64_ANY = re.compile(_B64.pattern % 40), re.compile(_B64.pattern % 4)
_PEM_HEADER = re.compile(r"^[+\- ]?\s*[A-Za-z-]+: ")
_LITERAL_PAIR = re.compile(
    r"([\"'])(?P<a>[\w+/=.-]{4,})\1\s*\+?\s*(?:\\?\n[+\- ]?\s*\+?\s*)?"
    r"([\"'])(?P<b>[\w+/=.-]{4,})\3"
)
_SHORTEST = 6  # detect-secrets' keyword check flags any quoted value ("xai", "dummy")
_ALLOWLIST = "detect_secrets.filters.allowlist.is_line_allowlisted"
_compiled: list[tuple[str, re.Pattern[str]]] = []


def redact(text: str, name: str = "") -> tuple[str, list[str]]:
    """`text` with every secret any layer finds replaced by [REDACTED], line by line, and the
    kinds found (one per redaction). `name` (the file's path) picks per-format rules."""
    spans = [
        *privacy.secret_spans(text),
        *_pattern_spans(text),
        *_bare_spans(text, name),
        *_pem_spans(text),
        *_split_literal_spans(text),
        *_scanner_spans(text, name),
    ]
    return privacy.apply(text, spans)


def scanner_only(text: str, name: str = "") -> tuple[str, list[str]]:
    """What detect-secrets alone redacts (the benchmark's baseline)."""
    return privacy.apply(text, list(_scanner_spans(text, name, shortest=1)))


def _pattern_spans(text: str) -> Iterator[Span]:
    if not _compiled:
        _compiled.extend((kind, re.compile(p, re.MULTILINE)) for kind, p in PATTERNS)
    for kind, pattern in _compiled:
        for match in pattern.finditer(text):
            group = "s" if "s" in pattern.groupindex else 0
            if "k" in pattern.groupindex and not _plausible(match["k"], match["s"]):
                continue
            yield *match.span(group), 1, kind


def _plausible(key: str, value: str) -> bool:
    """A value worth redacting: not a placeholder, reference or word (words count only for
    password-like keys)."""
    if _NOT_A_VALUE.match(value):
        return False
    return bool(_PASSWORD_KEY.search(key)) or not _WORDS.match(value)


def _bare_spans(text: str, name: str) -> Iterator[Span]:
    config = _is_config(name)
    for offset, line in _lines(text):
        match = _BARE.match(line)
        if not match or not (config or line.lstrip("+- \t").startswith("export ")):
            continue
        value = match["s"]
        if _plausible(match["k"], value) and (
            _PASSWORD_KEY.search(match["k"]) or re.search(r"[\d+/=_-]", value)
        ):
            yield offset + match.start("s"), offset + match.end("s"), 1, "assigned secret"


def _is_config(name: str) -> bool:
    path = PurePosixPath(name.lower())
    return path.suffix in _CONFIG_SUFFIXES or path.name.startswith((".env", "env."))


def _pem_spans(text: str) -> Iterator[Span]:
    """Private key bodies, line by line: inside BEGIN..END (or BEGIN..the first line that is
    not base64 when END is missing), long base64 lines anywhere, and the short base64 line
    that ends a run of them."""
    inside = after_body = False
    for offset, line in _lines(text):
        if _BEGIN.search(line) or _END.search(line):
            inside, after_body = bool(_BEGIN.search(line)) and not _END.search(line), False
            continue
        long, short = _B64_LONG.match(line), _B64_ANY.match(line)
        body = long if long and _mixed(long["s"]) else (short if inside or after_body else None)
        if body:
            yield offset + body.start("s"), offset + body.end("s"), 1, "private key body"
        elif inside and _PEM_HEADER.match(line):
            continue
        else:
            inside = False
        after_body = bool(body)


def _mixed(value: str) -> bool:
    return (
        any(c.isupper() for c in value)
        and any(c.islower() for c in value)
        and any(c.isdigit() for c in value)
    )


def _split_literal_spans(text: str) -> Iterator[Span]:
    """Two adjacent or `+`-joined string literals whose concatenation is a known token or a
    long high-entropy string: both halves are redacted."""
    for match in _LITERAL_PAIR.finditer(text):
        joined = match["a"] + match["b"]
        known = privacy.secret_spans(joined) or any(
            p.search(joined) for _, p in _compiled if "s" not in p.groupindex
        )
        if known or (len(joined) >= 32 and _mixed(joined) and _entropy(joined) >= 4.0):
            yield *match.span("a"), 1, "split secret"
            yield *match.span("b"), 1, "split secret"


def _entropy(value: str) -> float:
    return -sum(
        value.count(c) / len(value) * math.log2(value.count(c) / len(value)) for c in set(value)
    )


def _scanner_spans(text: str, name: str, shortest: int = _SHORTEST) -> Iterator[Span]:
    """What detect-secrets' default plugins (keyword, high-entropy, service keys) flag, found
    again in its line. Its allow-list comment is ignored: a secret marked allowed still leaves
    the machine otherwise. Diff markers are stripped so the per-format rules see the line."""
    lines = list(_lines(text))
    numbered = [(n, line[1:] if line[:1] in "+-" else line) for n, (_, line) in enumerate(lines, 1)]
    with default_settings() as settings:
        settings.disable_filters(_ALLOWLIST)
        found = list(scan._process_line_based_plugins(numbered, filename=name or "text"))
    for secret in found:
        value = secret.secret_value
        if not value or len(value) < shortest:
            continue
        offset, line = lines[secret.line_number - 1]
        for match in re.finditer(re.escape(value), line):
            yield offset + match.start(), offset + match.end(), 2, secret.type


def _lines(text: str) -> Iterator[tuple[int, str]]:
    offset = 0
    for line in text.split("\n"):
        yield offset, line
        offset += len(line) + 1
