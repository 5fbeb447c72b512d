"""`mm review`: what may be sent (deny list, redaction, limits), the reviewers asked in
parallel, and the command. What is collected: test_change.py; the findings: test_merge.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from multi_model import cli
from multi_model.models import Response
from multi_model.review import engine, privacy
from multi_model.review.change import collect
from multi_model.review.deny import DenyList
from tests.review.conftest import finding, reply

# --- privacy ----------------------------------------------------------------------------------

SECRETS = {
    "private key block": "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
    "AWS access key id": "key = AKIAIOSFODNN7EXAMPLE",
    "AWS secret key": "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "GitHub token": "ghp_" + "a" * 36,
    "GitHub fine-grained token": "github_pat_" + "B" * 30,
    "GitLab token": "glpat-" + "c" * 20,
    "Anthropic key": "sk-ant-api03-" + "d" * 30,
    "OpenAI key": "sk-proj-" + "e" * 30,
    "Google API key": "AIza" + "f" * 35,
    "Slack token": "xoxb-1234567890-abcdefghij",
    "Stripe key": "sk_live_" + "g" * 24,
    "npm token": "npm_" + "h" * 36,
    "Hugging Face token": "hf_" + "i" * 34,
    "JSON web token": (
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
    ),
    "password in URL": "postgres://admin:hunter2secret@db.internal:5432/app",
    "bearer token": "Authorization: Bearer abcdefghijklmnop1234",
    "Azure account key": "AccountKey=" + "j" * 40 + ";",
    "assigned secret": 'db_password = "correct-horse-battery"',
}


@pytest.mark.parametrize("kind", list(SECRETS))
def test_each_secret_kind_is_redacted(kind: str) -> None:
    text = f"before\n{SECRETS[kind]}\nafter"
    clean, found = privacy.redact(text)
    assert kind in found
    assert privacy.REDACTED in clean and clean.startswith("before\n") and clean.endswith("after")
    secret_part = {
        "password in URL": "hunter2secret",
        "assigned secret": "correct-horse",
        "AWS secret key": "wJalrXUtnFEMI",
    }.get(kind, SECRETS[kind][-12:])
    assert secret_part not in clean


def test_at_least_fifteen_patterns_and_plain_code_is_untouched() -> None:
    assert len(privacy.SECRET_PATTERNS) >= 15
    code = 'def token_count(text):\n    password_field = form["password"]\n    return len(text)\n'
    assert privacy.redact(code) == (code, [])


@pytest.mark.parametrize(
    "path, denied",
    [
        (".env", True),
        ("config/.env.production", True),
        ("deploy/server.pem", True),
        ("home/.aws/credentials", True),
        ("id_ed25519.pub", True),
        ("infra/prod.tfstate", True),
        ("src/env.py", False),
        ("docs/keys.md", False),
        ("README.md", False),
    ],
)
def test_deny_list(path: str, denied: bool) -> None:
    assert (DenyList().match(path) is not None) == denied
    assert DenyList(["notes/*"]).match("notes/private.txt") == ("notes/*", "your list")


# --- the review -------------------------------------------------------------------------------


def ok(model: str, text: str) -> Response:
    return Response(model=model, provider=model, status="ok", text=text, exit_code=0)


def test_review_keeps_going_when_reviewers_fail(repo: Path) -> None:
    change = collect(["app.py"], repo)
    prompts: list[str] = []

    def dispatch_fn(prompt: str, models: list[str]) -> list[Response]:
        prompts.append(prompt)
        return [
            ok("codex", reply(finding(2, "Division by zero"))),
            ok("gemini", "LGTM"),
            Response(model="qwen", provider="qwen", status="timeout", error="no reply"),
        ]

    audit = repo / "audit.jsonl"
    result = engine.review(change, ["codex", "gemini", "qwen"], dispatch_fn, audit=audit)
    assert [(r.model, r.status) for r in result.reviewers] == [
        ("codex", "ok"),
        ("gemini", "bad_output"),
        ("qwen", "timeout"),
    ]
    assert [(f.title, f.agreement) for f in result.findings] == [("Division by zero", "1 of 1")]
    assert "<<<BEGIN" in prompts[0] and "app.py" in prompts[0] and "sk-proj-" not in prompts[0]
    logged = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(e["model"], e["files"]) for e in logged] == [
        ("codex", ["app.py"]),
        ("gemini", ["app.py"]),
        ("qwen", ["app.py"]),
    ]


# --- the command ------------------------------------------------------------------------------


def test_mm_review_with_a_scripted_reviewer(repo: Path, scripted, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(repo)
    scripted.enqueue(reply(finding(2, "Division by zero")), model="m1")
    code = cli.main(["review", "--models", "scripted:m1", "app.py", ".env"])
    out = capsys.readouterr().out
    assert code == 0
    assert "1. **high** app.py:2 — Division by zero (1 of 1: scripted:m1)" in out
    assert "Not sent: .env: on the deny list (.env)" in out
    assert "Redacted before sending: app.py: OpenAI key" in out
    assert "x" * 30 not in scripted.calls[0].prompt


def test_mm_review_exits_5_when_every_reviewer_fails(
    repo: Path,
    scripted,
    capsys,  # type: ignore[no-untyped-def]
    monkeypatch,
) -> None:
    monkeypatch.chdir(repo)
    scripted.enqueue("not json at all", model="m1")
    assert cli.main(["review", "--models", "scripted:m1", "app.py"]) == 5
    assert "scripted:m1: bad_output" in capsys.readouterr().out
