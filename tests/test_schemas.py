"""The committed JSON Schema matches the models, is pinned by a snapshot, and fits real output."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from multi_model import cli, schemas

COMMITTED = Path(__file__).resolve().parents[1] / "schemas" / "response.schema.json"


@pytest.fixture
def committed() -> dict:
    return json.loads(COMMITTED.read_text(encoding="utf-8"))


def test_committed_file_is_regenerated() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == schemas.render(schemas.response_schema()), (
        "the Response model changed: run `python -m multi_model.schemas` and commit the result"
    )


def test_response_schema_snapshot(snapshot) -> None:
    assert schemas.response_schema() == snapshot.use_extension(JSONSnapshotExtension)


def test_schema_is_a_valid_draft_2020_12_array_schema(committed: dict) -> None:
    jsonschema.Draft202012Validator.check_schema(committed)
    assert committed["title"] == "multi-model mm ask output"
    assert committed["type"] == "array"


def test_module_writes_the_files(tmp_path: Path) -> None:
    assert schemas.main([str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "response.schema.json").read_text() == COMMITTED.read_text()


def test_module_rejects_extra_arguments() -> None:
    assert schemas.main(["a", "b"]) == 2


def test_mm_ask_demo_output_validates(committed: dict, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ask", "--demo", "--prompt", "Which cache layout is simpler?"]) == 0
    output = json.loads(capsys.readouterr().out)
    jsonschema.validate(output, committed, cls=jsonschema.Draft202012Validator)
    assert len(output) == 3


def test_failure_output_validates(committed: dict, fake_clis, monkeypatch, capsys) -> None:
    """Failures (auth_required with a stderr tail, not_installed with nulls) validate too."""
    fake_clis.set(
        "codex", fixture="codex/401-with-retries.exec-json.jsonl", exit=1, stderr="warning\n"
    )
    monkeypatch.setenv("PATH", f"{fake_clis.bin}:/usr/bin:/bin")
    monkeypatch.setenv("HOME", str(fake_clis.home))
    assert cli.main(["ask", "--models", "codex:gpt-5.4,qwen:qwen3", "--prompt", "hi"]) == 5
    output = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in output] == ["auth_required", "not_installed"]
    jsonschema.validate(output, committed, cls=jsonschema.Draft202012Validator)


@pytest.mark.parametrize(
    "change", [{"surprise": 1}, {"status": "fine"}, {"text": None}, {"usage": {"tokens": 3}}]
)
def test_schema_rejects_what_mm_ask_never_prints(committed: dict, change: dict) -> None:
    item = {"model": "codex", "provider": "codex", "status": "ok", "text": "hi", **change}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([item], committed, cls=jsonschema.Draft202012Validator)


COUNCIL = COMMITTED.with_name("council-result.schema.json")


def test_committed_council_schema_is_regenerated() -> None:
    assert COUNCIL.read_text(encoding="utf-8") == schemas.render(schemas.council_result_schema()), (
        "the council models changed: run `python -m multi_model.schemas` and commit the result"
    )


def test_council_schema_snapshot(snapshot) -> None:
    assert schemas.council_result_schema() == snapshot.use_extension(JSONSnapshotExtension)


def test_mm_council_demo_json_validates(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        cli.main(
            ["council", "--demo", "--prompt", "Tabs or spaces?", "--seed", "3", "--format", "json"]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    schema = json.loads(COUNCIL.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(result, schema)
    assert [b["status"] for b in result["ballots"]] == ["valid"] * 3
    assert result["metadata"]["demo"] is True
    assert all(r["metadata"]["demo"] is True for r in result["answers"])
