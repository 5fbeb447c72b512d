"""Live smoke test with your real accounts — never in CI. Run:

    MM_LIVE=1 .venv/bin/pytest -m live                      # every installed, logged-in CLI
    MM_LIVE=1 MM_LIVE_MODELS=codex,gemini:gemini-3-pro .venv/bin/pytest -m live

It spends a few tokens per model: one short prompt each, in parallel, through the same
dispatch path as `mm ask` (your real HOME, config and credentials).
"""

from __future__ import annotations

import os

import pytest

from multi_model import dispatch
from multi_model.config import load_settings
from multi_model.detect import detect_all

pytestmark = pytest.mark.live
PROMPT = "Reply with exactly the word PONG and nothing else."


def live_models() -> list[str]:
    chosen = os.environ.get("MM_LIVE_MODELS")
    if chosen:
        return [m.strip() for m in chosen.split(",") if m.strip()]
    settings = load_settings().settings
    return [
        i.name
        for i in detect_all(settings, check_auth=True)
        if i.installed and i.auth == "logged_in" and i.name != "claude"
    ]


def test_every_live_model_answers() -> None:
    if os.environ.get("MM_LIVE") != "1":
        pytest.skip("live tests talk to real accounts: set MM_LIVE=1")
    models = live_models()
    if not models:
        pytest.skip("no installed and logged-in CLI found (see `mm detect --check-auth`)")
    results = dispatch(models, PROMPT, timeout=180)
    failures = [f"{r.model}: {r.status} {r.error}" for r in results if r.status != "ok"]
    assert not failures, "\n".join(failures)
    for r in results:
        assert "PONG" in r.text.upper(), (r.model, r.text)
        assert r.cli_version and r.duration_s > 0
