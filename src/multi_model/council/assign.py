"""Which answers each reviewer is shown: all of them (the default), or, for large panels,
`per_answer` = k so that every answer is reviewed by exactly k reviewers. Pure, seeded.

The k design is circular: the answered seats in a seeded order, each reviewer shown the k
answers that follow its own. So every answer gets k reviewers, every reviewer k answers (a
balanced design), no reviewer its own answer, and neighbouring reviewers overlap, which keeps
every answer compared, directly or through others, with every other. A reviewer that did not
answer is shown a seeded sample of k. With k >= (answers - 1) everyone is shown everything.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from multi_model.council import anonymize


def shown_to(
    answered: Sequence[str], reviewer: str, per_answer: int | None, seed: int
) -> list[str]:
    """The seats whose answers `reviewer` reviews, in `answered` order. Raises ValueError for
    per_answer < 1 (a caller's bug: the command checks it first)."""
    if per_answer is None or per_answer >= len(answered) - 1:
        return list(answered)
    if per_answer < 1:
        raise ValueError(f"reviewers per answer must be at least 1, got {per_answer}")
    order = list(answered)
    random.Random(anonymize.reviewer_seed(seed, "assign")).shuffle(order)
    if reviewer in order:
        at = order.index(reviewer)
        chosen = {order[(at + i) % len(order)] for i in range(1, per_answer + 1)}
    else:
        chosen = set(
            random.Random(anonymize.reviewer_seed(seed, reviewer)).sample(order, per_answer)
        )
    return [seat for seat in answered if seat in chosen]
