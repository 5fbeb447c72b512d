"""Reading helpers shared by the adapters: the common classifier, reset times, stderr tails."""

from __future__ import annotations

import pytest

from multi_model.providers.parse import classify, parse_retry_after, stderr_tail


@pytest.mark.parametrize(
    "text, status",
    [
        ("unexpected status 401 Unauthorized: bad key", "auth_required"),
        ("Not logged in · Please run /login", "auth_required"),
        ("exceeded retry limit, last status: 429 Too Many Requests", "rate_limited"),
        ("You've hit your usage limit. Try again at 3:05 PM.", "rate_limited"),
        ("The model `x` does not exist or you do not have access to it.", "model_not_found"),
        ("Model metadata for `x` not found", "crashed"),  # a codex warning, never a terminal error
        ("Connection failed: error sending request", "network"),
        ("HTTP 503 Service Unavailable", "server_error"),
        ("prompt is too long: 250000 tokens > 200000 maximum", "oversize"),
        ("something odd happened", "crashed"),
    ],
)
def test_common_classifier(text: str, status: str) -> None:
    assert classify(text) == status


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("Individual quota reached. Resets in 156h13m", 156 * 3600 + 13 * 60),
        ("Resets in 37h50m21s", 37 * 3600 + 50 * 60 + 21),
        ("rate limited, retry after 20s", 20),
        ("Retry-After: 30", 30),
        ("try again in 1m30s", 90),
        ("quota resets in 2 days", 2 * 86400),
        ("wait 250ms", 0.25),
        ("Please wait and try again later.", None),
        ("429 Too Many Requests", None),
    ],
)
def test_parse_retry_after(text: str, seconds: float | None) -> None:
    assert parse_retry_after(text) == seconds


def test_stderr_tail_is_bounded_in_lines_and_characters() -> None:
    assert stderr_tail("a\nb\nc\n", lines=2) == "b\nc"
    assert len(stderr_tail("x" * 10_000_000)) == 4000
