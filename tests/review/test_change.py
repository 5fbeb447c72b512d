"""What a review sends from a git working tree or named files: deny list, binaries, size
limits, redaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from multi_model.errors import ReviewInputError
from multi_model.review import privacy
from multi_model.review.change import collect


def test_collect_the_working_tree_change(repo: Path) -> None:
    change = collect([], repo)
    assert set(change.parts) == {"app.py", "new.py"}
    assert "+    return x / 0" in change.parts["app.py"]
    assert "sk-proj-" not in change.parts["app.py"] and privacy.REDACTED in change.parts["app.py"]
    assert change.parts["new.py"] == "print('new')\n"
    skipped = "\n".join(change.skipped)
    assert ".env: on the deny list" in skipped and "logo.png: binary" in skipped
    assert "big.txt: too large" in skipped
    assert change.redactions == ["app.py: OpenAI key"]


def test_collect_named_files_and_not_a_repository(repo: Path, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    change = collect(["new.py", ".env", "missing.py"], repo)
    assert list(change.parts) == ["new.py"]
    assert any(s.startswith("missing.py: cannot read") for s in change.skipped)
    with pytest.raises(ReviewInputError, match="git diff failed"):
        collect([], tmp_path_factory.mktemp("plain"))
