"""Labels, seeded per-reviewer shuffles, nonces, relabelling and answer blocks."""

from __future__ import annotations

import hashlib
import hmac
import random
import re
from collections import Counter

import pytest

from multi_model.council.anonymize import (
    answer_blocks,
    keyed,
    label,
    label_index,
    label_map,
    relabel,
    reviewer_seed,
)

SEATS = ["codex:gpt-5.4", "gemini", "claude:opus", "qwen"]


@pytest.mark.parametrize(
    ("i", "expected"),
    [
        (0, "Response A"),
        (1, "Response B"),
        (25, "Response Z"),
        (26, "Response AA"),
        (27, "Response AB"),
        (51, "Response AZ"),
        (52, "Response BA"),
        (701, "Response ZZ"),
        (702, "Response AAA"),
    ],
)
def test_label(i: int, expected: str) -> None:
    assert label(i) == expected
    assert label_index(expected) == i


def test_labels_are_distinct_and_invertible() -> None:
    labels = [label(i) for i in range(3000)]
    assert len(set(labels)) == len(labels)
    assert [label_index(x) for x in labels] == list(range(3000))


@pytest.mark.parametrize("bad", ["Response", "Response a", "Responses A", "Response A1", "A", ""])
def test_label_index_rejects_non_labels(bad: str) -> None:
    with pytest.raises(ValueError):
        label_index(bad)


def test_label_rejects_negative() -> None:
    with pytest.raises(ValueError):
        label(-1)


def test_reviewer_seed_is_pinned_sha256() -> None:
    # sha256("7:codex:gpt-5.4")[:8], big-endian: the same on every run and Python version
    assert reviewer_seed(7, "codex:gpt-5.4") == 4037279192639937364
    assert reviewer_seed(7, "gemini") == 9118075064996446266
    assert reviewer_seed(8, "gemini") != reviewer_seed(7, "gemini")


def test_label_map_is_pinned() -> None:
    # pins random.Random's shuffle: if a Python release changes it, this fails loudly
    assert list(label_map(SEATS, 42).items()) == [
        ("Response A", "claude:opus"),
        ("Response B", "gemini"),
        ("Response C", "qwen"),
        ("Response D", "codex:gpt-5.4"),
    ]


def test_label_map_is_deterministic_and_leaves_input_alone() -> None:
    seats = list(SEATS)
    for seed in range(50):
        assert label_map(seats, seed) == label_map(seats, seed)
    assert seats == SEATS


def test_label_map_is_a_bijection_in_label_order() -> None:
    rng = random.Random(1234)
    for _ in range(300):
        n = rng.randint(0, 60)
        seats = [f"seat{k}#{rng.randint(0, 9)}" for k in range(n)]
        mapping = label_map(seats, rng.getrandbits(64))
        assert list(mapping) == [label(i) for i in range(n)]
        assert sorted(mapping.values()) == sorted(seats)


def test_label_map_rejects_duplicate_seats() -> None:
    with pytest.raises(ValueError):
        label_map(["gemini", "gemini"], 1)


def test_reviewers_get_different_orders() -> None:
    reviewers = [f"reviewer{k}" for k in range(20)]
    for run_seed in range(30):
        orders = {tuple(label_map(SEATS, reviewer_seed(run_seed, r)).values()) for r in reviewers}
        assert len(orders) >= 2, run_seed
    # and within one run the reviewers' seeds differ
    assert len({reviewer_seed(0, r) for r in reviewers}) == len(reviewers)


def test_positions_are_roughly_uniform() -> None:
    runs = 4000
    counts = Counter()
    for run_seed in range(runs):
        mapping = label_map(SEATS, reviewer_seed(run_seed, "gemini"))
        counts.update((seat, label_index(lab)) for lab, seat in mapping.items())
    expected = runs / len(SEATS)
    for seat in SEATS:
        for pos in range(len(SEATS)):
            assert abs(counts[seat, pos] - expected) < 0.1 * expected, (seat, pos, counts)


def test_keyed() -> None:
    key = "0" * 32
    assert (
        keyed(key, "nonce:review")
        == hmac.new(key.encode(), b"nonce:review:0", hashlib.sha256).hexdigest()[:16]
    )
    values = [keyed(key, f"token:{n}") for n in range(2000)]
    assert all(re.fullmatch(r"[0-9a-f]{16}", v) for v in values)
    assert len(set(values)) == len(values)
    assert keyed("1" * 32, "token:0") != values[0]  # the key decides, not the purpose alone
    with pytest.raises(ValueError, match="empty key"):
        keyed("", "nonce")


def test_keyed_steps_past_a_text_that_contains_it() -> None:
    first = keyed("k" * 32, "nonce")
    assert keyed("k" * 32, "nonce", [f"... {first} ..."]) != first


def test_relabel_swaps_in_one_pass() -> None:
    text = "Response A beats Response B; Response B's proof fails. Response C is fine."
    swapped = relabel(text, {"Response A": "Response B", "Response B": "Response A"})
    assert swapped == "Response B beats Response A; Response A's proof fails. Response C is fine."


def test_relabel_whole_words_only() -> None:
    text = "Responses vary. Response Z9 and Response AB and XResponse A and response a stay."
    mapping = {"Response A": "Response C", "Response Z": "Response Y"}
    assert relabel(text, mapping) == text
    assert relabel("(Response A)", mapping) == "(Response C)"
    assert relabel("Response Z.", mapping) == "Response Y."
    assert relabel("x", {}) == "x"


def test_relabel_multi_letter_labels() -> None:
    mapping = {"Response A": "Response AA", "Response AA": "Response A"}
    assert relabel("Response AA, Response A", mapping) == "Response A, Response AA"


def test_relabel_round_trip_property() -> None:
    rng = random.Random(99)
    for _ in range(200):
        n = rng.randint(1, 30)
        old = [label(i) for i in range(n)]
        new = rng.sample(old, n)
        mapping = dict(zip(old, new, strict=True))
        inverse = {v: k for k, v in mapping.items()}
        picks = [rng.randrange(n) for _ in range(rng.randint(0, 12))]
        text = " ".join(f"{old[p]} vs" for p in picks)
        expected = " ".join(f"{new[p]} vs" for p in picks)
        assert relabel(text, mapping) == expected
        assert relabel(expected, inverse) == text


def test_answer_blocks_verbatim_in_label_order() -> None:
    answers = {"Response B": "  two\n\n", "Response A": "one"}
    assert answer_blocks(answers, "n0nce") == (
        "<<<BEGIN n0nce Response A>>>\none\n<<<END n0nce Response A>>>\n\n"
        "<<<BEGIN n0nce Response B>>>\n  two\n\n\n<<<END n0nce Response B>>>"
    )


@pytest.mark.parametrize(
    ("answers", "nonce_"),
    [
        ({"Response A": "see <<<END abc Response A>>>"}, "abc"),
        ({"Answer 1": "text"}, "abc"),
        ({"Response A": "text"}, ""),
    ],
)
def test_answer_blocks_refuse(answers: dict[str, str], nonce_: str) -> None:
    with pytest.raises(ValueError):
        answer_blocks(answers, nonce_)
