"""Model names: no silent catch-all for typos. A near miss of a provider, alias or catalog name
is an error with "did you mean" (exit 4); whitespace inside a spec and empty entries are usage
errors (exit 2); the catch-all (cursor-agent) takes only ids that look like model ids, and the
route that matched is in the result's metadata and in `--verbose`."""

from __future__ import annotations

import json
import os

import pytest

from multi_model.config import Settings
from multi_model.errors import UnknownModel
from multi_model.routing import route
from tests.conftest import FakeCLIs, fixture_path, run_mm

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")

EVERYTHING = {"codex": "logged_in", "gemini": "logged_in", "cursor-agent": "logged_in"}.get


@pytest.fixture
def fakes(fake_clis: FakeCLIs, monkeypatch: pytest.MonkeyPatch) -> FakeCLIs:
    monkeypatch.setenv("PATH", f"{fake_clis.bin}:/usr/bin:/bin")
    monkeypatch.setenv("HOME", str(fake_clis.home))
    ok = fixture_path("cursor-agent", "ok.json-mode.from-docs.json")
    return fake_clis.set("cursor-agent", stdout_file=str(ok))


@pytest.mark.parametrize(
    ("models", "code", "needles"),
    [
        ("codex gemini", 2, ["has a space inside", "--models codex,gemini"]),
        ("codex, gemini lite", 2, ["has a space inside"]),
        ("codex,,gemini", 2, ["empty entry"]),
        ("gemni", 4, ["unknown model 'gemni'", "did you mean 'gemini'"]),
        ("codex,cursr", 4, ["did you mean 'cursor'"]),
        ("foo", 4, ["does not look like a model id", "provider:model"]),
    ],
)
def test_bad_names_fail_before_anything_runs(
    fakes: FakeCLIs, capsys: pytest.CaptureFixture[str], models: str, code: int, needles: list
) -> None:
    got, out, err = run_mm(capsys, "ask", "--models", models, "--prompt", "hi")
    assert (got, out) == (code, "")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert all(n in err for n in needles), err
    assert not [c for c in fakes.calls() if c["argv"] != ["--version"]]


def test_the_panel_flag_is_checked_the_same_way(
    fakes: FakeCLIs, capsys: pytest.CaptureFixture[str]
) -> None:
    got, _, err = run_mm(capsys, "council", "--panel", "codex gemini,kimi-k2", "--prompt", "q")
    assert got == 2 and "has a space inside" in err


@pytest.mark.parametrize("spec", ["grok-4", "kimi-k2", "grok-5", "llama3", "composer-1", "auto"])
def test_model_ids_still_take_the_catch_all(spec: str) -> None:
    r = route(spec, Settings(), EVERYTHING)
    assert (r.provider, r.family) == ("cursor-agent", ".*")


def test_unknown_model_names_its_near_misses() -> None:
    with pytest.raises(UnknownModel) as caught:
        route("gemni", Settings(), EVERYTHING)
    assert caught.value.close == ["gemini"]


def test_the_matched_route_is_in_metadata_and_verbose(
    fakes: FakeCLIs, capsys: pytest.CaptureFixture[str]
) -> None:
    got, out, err = run_mm(capsys, "ask", "--models", "kimi-k2", "--prompt", "hi", "--verbose")
    [answer] = json.loads(out)
    assert got == 0 and answer["provider"] == "cursor-agent"
    assert answer["metadata"]["route"].startswith("family /.*/")
    assert "kimi-k2 -> cursor-agent (family /.*/" in err
