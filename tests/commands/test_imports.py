"""Start-up: `mm` imports only the module of the command that runs, and `mm ask` none of
the council, review, jobs, jsonschema or detect-secrets code."""

from __future__ import annotations

import subprocess
import sys

from multi_model.commands import COMMANDS

LOADED = (
    "import sys; from multi_model import cli; cli.parse(sys.argv[1:]); "
    "print('\\n'.join(sorted(sys.modules)))"
)


def loaded(*argv: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", LOADED, *argv],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return set(done.stdout.split())


def test_mm_ask_loads_no_council_review_or_schema_code() -> None:
    modules = loaded("ask", "--prompt", "hi")
    assert "multi_model.commands.ask" in modules
    heavy = {
        m
        for m in modules
        if m.startswith(
            (
                "multi_model.council",
                "multi_model.review",
                "jsonschema",
                "detect_secrets",
                "pathspec",
                "multi_model.jobs",
            )
        )
    }
    assert heavy == set()


def test_only_the_running_command_is_imported() -> None:
    modules = loaded("detect")
    assert {f"multi_model.commands.{m}" for m, _ in COMMANDS.values()} & modules == {
        "multi_model.commands.detect"
    }


ROUTED = (
    "import sys; from multi_model import fanout, routing; from multi_model.commands import ask; "
    "from multi_model.config import Settings; "
    "routing.route_all(['codex:gpt-5.4', 'gpt-5.4', 'claude-opus'], Settings(), {}, "
    "allow_claude_cli=True); print('\\n'.join(sorted(sys.modules)))"
)


def test_a_cli_call_loads_no_http_client_and_no_regex_engine() -> None:
    """urllib/ssl (httpcall.py) come with HTTP providers only; `regex` (bounded.py) with a
    route pattern from a config file only: the built-in families run on `re`."""
    done = subprocess.run(
        [sys.executable, "-c", ROUTED], capture_output=True, text=True, check=True, timeout=60
    )
    modules = set(done.stdout.split())
    assert "multi_model.calling" in modules
    assert {"regex", "ssl", "http.client", "urllib.request", "multi_model.httpcall"} & modules == (
        set()
    )
