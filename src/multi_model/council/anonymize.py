"""Blind review: labels, per-reviewer seeded shuffles, nonces, ballot tokens and
nonce-delimited answer blocks.

Pure and deterministic, but for `draw_key`. Every reviewer gets its own shuffle
(`reviewer_seed` -> `label_map`), so position bias spreads over the seats instead of favouring
one. Seeds come from sha256, never
`hash()` (salted per process). The shuffle itself is `random.Random(seed).shuffle`: the
algorithm has not changed since Python 3.2 but is not guaranteed by the docs, so the tests pin
one map for a fixed seed (a change shows up as a failing test, not as silent drift).

Nonces and ballot tokens are secrets, so they never come from the seed (which a user may pick
with --seed and which the run directory records): they are HMACs of a run key drawn from
`secrets` (`draw_key`), so every process of one run derives the same ones from the key alone.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import random
import re
import secrets
from collections.abc import Sequence

PREFIX = "Response "
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LABEL_RE = re.compile(r"Response ([A-Z]+)")


def label(i: int) -> str:
    """0 -> "Response A", 25 -> "Response Z", 26 -> "Response AA" (bijective base 26)."""
    if i < 0:
        raise ValueError(f"label index must be >= 0, got {i}")
    letters = ""
    n = i + 1
    while n:
        n, r = divmod(n - 1, 26)
        letters = _ALPHABET[r] + letters
    return PREFIX + letters


def label_index(text: str) -> int:
    """Inverse of `label`; raises ValueError for anything that is not a label."""
    match = _LABEL_RE.fullmatch(text)
    if not match:
        raise ValueError(f"not a label: {text!r}")
    n = 0
    for letter in match.group(1):
        n = n * 26 + _ALPHABET.index(letter) + 1
    return n - 1


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


def reviewer_seed(run_seed: int, reviewer: str) -> int:
    """A reviewer's shuffle seed: the first 8 bytes of sha256(f"{run_seed}:{reviewer}")."""
    return int.from_bytes(_digest(f"{run_seed}:{reviewer}")[:8], "big")


def draw_key() -> str:
    """A run key: 128 bits from `secrets`, the root of the run's nonces and ballot tokens."""
    return secrets.token_hex(16)


def keyed(key: str, purpose: str, avoid: Sequence[str] = ()) -> str:
    """16 hex chars of HMAC-SHA256(key, purpose) that none of `avoid` contains (stepped on in
    the case of a collision, so no framed text can close a block or carry a token).

    Unpredictable without `key`; the same for every process that holds it. Raises ValueError
    for an empty key (a caller's bug: an empty key would make every nonce public)."""
    if not key:
        raise ValueError("empty key")
    for step in itertools.count():
        mac = hmac.new(key.encode("utf-8"), f"{purpose}:{step}".encode(), hashlib.sha256)
        candidate = mac.hexdigest()[:16]
        if not any(candidate in text for text in avoid):
            return candidate
    raise AssertionError("unreachable")


def fresh_nonce(avoid: Sequence[str] = ()) -> str:
    """A one-off nonce from `secrets` that none of `avoid` contains."""
    return keyed(draw_key(), "nonce", avoid)


def label_map(seats: list[str], seed: int) -> dict[str, str]:
    """label -> seat for `seats` shuffled by `random.Random(seed)`; keys in label order.

    Raises ValueError if a seat appears twice (the map must be a bijection).
    """
    if len(set(seats)) != len(seats):
        raise ValueError(f"seats must be distinct: {seats}")
    order = list(seats)
    random.Random(seed).shuffle(order)
    return {label(i): seat for i, seat in enumerate(order)}


def relabel(text: str, mapping: dict[str, str]) -> str:
    """Rewrite whole-word label mentions old -> new in one pass (A->B and B->A do not collide).

    Labels not in `mapping`, "Responses", "Response Z9" and "Response AB" (when only
    "Response A" is mapped) are left alone. Case-sensitive.
    """
    if not mapping:
        return text
    keys = sorted(mapping, key=len, reverse=True)
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, keys)) + r")\b")
    return pattern.sub(lambda m: mapping[m.group(0)], text)


def answer_block(label_: str, text: str, nonce_: str) -> str:
    """One `<<<BEGIN nonce label>>>` ... `<<<END nonce label>>>` block; `text` kept verbatim."""
    return f"<<<BEGIN {nonce_} {label_}>>>\n{text}\n<<<END {nonce_} {label_}>>>"


def answer_blocks(answers: dict[str, str], nonce_: str) -> str:
    """label -> text as blocks in label order, separated by a blank line; texts verbatim.

    Raises ValueError if the nonce is empty, a key is not a label, or a text contains the nonce
    (it could forge a block marker: pick another nonce).
    """
    if not nonce_:
        raise ValueError("empty nonce")
    for key, text in answers.items():
        label_index(key)
        if nonce_ in text:
            raise ValueError(f"the text of {key} contains the nonce; use another nonce")
    ordered = sorted(answers, key=label_index)
    return "\n\n".join(answer_block(key, answers[key], nonce_) for key in ordered)
