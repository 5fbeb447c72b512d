"""What may leave the machine for a review: a deny list of file names, secret redaction, and
limits. Stdlib only (the edit hook imports it too)."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath

DENY_GLOBS: tuple[str, ...] = (
    ".env", ".env.*", "*.env", ".envrc", "*.pem", "*.key", "*.p12", "*.pfx", "*.crt", "*.cer",
    "*.der", "*.jks", "*.keystore", "*.kdbx", "*.ovpn", "id_rsa*", "id_dsa*", "id_ecdsa*",
    "id_ed25519*", ".netrc", "_netrc", ".npmrc", ".pypirc", ".git-credentials", ".htpasswd",
    "credentials", "credentials.json", "*credentials*.json", "service-account*.json",
    "secrets.*", "*.secret", "*.secrets", "*.tfstate", "*.tfstate.*",
    ".aws/*", ".ssh/*", ".gnupg/*", ".docker/config.json", ".kube/config",
)
MAX_FILE_BYTES = 100_000
MAX_TOTAL_BYTES = 400_000
REDACTED = "[REDACTED]"

# (name, pattern): the whole match is replaced, or only group "s" when the pattern has one.
# Compiled on first use: the edit hook imports this module for `denied` alone.
SECRET_PATTERNS: tuple[tuple[str, str], ...] = (
    ("private key block",
     r"-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY"
     r"(?: BLOCK)?-----"),
    ("AWS access key id", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    ("AWS secret key", r"(?i)aws.{0,20}?(?:secret|key).{0,20}?[=:]\s*['\"]?"
                       r"(?P<s>[A-Za-z0-9/+=]{40})\b"),
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
    ("assigned secret", r"(?i)\b[\w-]*?(?:password|passwd|pwd|secret|api[_-]?key|apikey|"
                        r"access[_-]?key|auth[_-]?token|client[_-]?secret|token)\b"
                        r"['\"]?\s*[=:]\s*['\"](?!\[REDACTED\])(?P<s>[^'\"\s]{6,})['\"]"),
)
_compiled: list[tuple[str, re.Pattern[str]]] = []


def denied(path: str, extra_globs: Iterable[str] = ()) -> str | None:
    """The glob that keeps `path` from being sent, or None. Matched against the file name and
    against every tail of the path (so `.aws/*` catches `home/.aws/credentials`)."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    tails = ["/".join(parts[i:]) for i in range(len(parts))]
    for glob in (*DENY_GLOBS, *extra_globs):
        if any(_match(tail, glob) for tail in tails):
            return glob
    return None


def _match(name: str, glob: str) -> bool:
    """fnmatch's answer (case-sensitive, `*` crosses `/`), without compiling a regular
    expression for globs that use only `*`: the edit hook checks ~40 globs per edit."""
    if "?" in glob or "[" in glob:
        return fnmatch.fnmatchcase(name, glob)
    pieces = glob.split("*")
    if len(pieces) == 1:
        return name == glob
    first, *middle, last = pieces
    if len(name) < len(first) + len(last) or not (name.startswith(first)
                                                  and name.endswith(last)):
        return False
    at, stop = len(first), len(name) - len(last)
    for piece in middle:
        found = name.find(piece, at, stop)
        if found < 0:
            return False
        at = found + len(piece)
    return True


def redact(text: str) -> tuple[str, list[str]]:
    """`text` with secrets replaced by [REDACTED], and the kinds found (one per redaction)."""
    found: list[str] = []

    def replace(name: str, match: re.Match[str]) -> str:
        found.append(name)
        if "s" in match.re.groupindex and match.group("s") is not None:
            start, end = match.span("s")
            whole = match.group(0)
            offset = match.start(0)
            return whole[:start - offset] + REDACTED + whole[end - offset:]
        return REDACTED

    if not _compiled:
        _compiled.extend((name, re.compile(pattern)) for name, pattern in SECRET_PATTERNS)
    for name, pattern in _compiled:
        text = pattern.sub(lambda m, n=name: replace(n, m), text)  # type: ignore[misc]
    return text, found


def is_binary(data: bytes) -> bool:
    return b"\0" in data[:8192]


def kinds(found: Sequence[str]) -> str:
    counts: dict[str, int] = {}
    for name in found:
        counts[name] = counts.get(name, 0) + 1
    return ", ".join(f"{n} x{c}" if c > 1 else n for n, c in counts.items())
