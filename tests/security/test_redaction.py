"""The redaction corpus: every secret format and placement is redacted by what `mm review`
and the edit-review batches send, never less than detect-secrets alone, line structure kept."""

from __future__ import annotations

import pytest

from multi_model.review import privacy, redact
from multi_model.review.change import Change
from multi_model.review.watch import build_change
from tests.security.corpus import Case, corpus

CASES = corpus()


def survivors(case: Case, clean: str) -> list[str]:
    return [s for s in case.secrets if s in clean]


def test_the_corpus_is_large_and_labelled() -> None:
    assert len({c.format for c in CASES}) >= 60
    assert all(c.secrets and all(s in c.text for s in c.secrets) for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.format for c in CASES])
def test_every_secret_is_redacted_and_lines_are_kept(case: Case) -> None:
    clean, found = redact.redact(case.text, case.file)
    assert survivors(case, clean) == []
    assert found and clean.count("\n") == case.text.count("\n")


def test_recall_is_never_below_detect_secrets_alone() -> None:
    ours = sum(not survivors(c, redact.redact(c.text, c.file)[0]) for c in CASES)
    scanner = sum(not survivors(c, redact.scanner_only(c.text, c.file)[0]) for c in CASES)
    assert ours == len(CASES) and ours >= scanner


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.format.startswith(("PEM", "token on"))], ids=lambda c: c.format
)
def test_both_review_paths_send_the_redacted_text(case: Case) -> None:
    change = Change()
    change.add(case.file, case.text, 0)
    batch = build_change(
        [{"file": case.file, "kind": "hunks", "tool": "Edit", "text": case.text}], []
    )
    for sent in (change.parts[case.file], batch.parts[case.file]):
        assert survivors(case, sent) == []


def test_ordinary_code_is_left_alone() -> None:
    code = (
        "def connect(check_auth=args.check_auth, token=None):\n"
        '    password = os.environ["DB_PASSWORD"]\n'
        '    api_key = settings.get("api_key")\n'
        '    headers = {"Authorization": f"Bearer {token}"}\n'
        '    config = {"apiKey": "{env:MOCK_API_KEY}", "auth": "required"}\n'
        "    return Client(password=password, api_key=api_key)\n"
    )
    assert redact.redact(code, "app.py") == (code, [])
    assert privacy.redact(code) == (code, [])
