"""Data hygiene in the history: --demo calls are marked and left out of stats and costs
unless asked; each foreground call (ask, council seat, review) records its run id and
source; `--stats` percentiles come from SQLite and match the nearest-rank definition."""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path

import pytest

from multi_model import history
from multi_model.store import Store
from tests.conftest import run_mm
from tests.test_history import row


def calls() -> list[dict[str, object]]:
    return Store.of(os.environ).calls()


def test_demo_ask_is_marked_and_left_out_of_stats_and_costs(capsys) -> None:
    Store.of(os.environ).add_calls([row("codex", duration=2.0), row("codex", duration=4.0)])
    code, out, _ = run_mm(capsys, "ask", "--demo", "--prompt", "hi", "--format", "json")
    assert code == 0, out
    demo_rows = [c for c in calls() if c["demo"]]
    assert demo_rows and all(c["source"] == "ask" for c in demo_rows)
    assert len({c["run_id"] for c in demo_rows}) == 1 and demo_rows[0]["run_id"]

    _, out, _ = run_mm(capsys, "history", "--stats", "--format", "json")
    assert [(r["provider"], r["calls"]) for r in json.loads(out)] == [("codex", 2)]
    _, out, _ = run_mm(capsys, "history", "--costs", "--format", "json")
    assert sum(r["calls"] for r in json.loads(out)) == 2
    _, out, _ = run_mm(capsys, "history", "--stats", "--include-demo", "--format", "json")
    assert sum(r["calls"] for r in json.loads(out)) == 2 + len(demo_rows)
    _, out, _ = run_mm(capsys, "history", "--format", "json")  # the listing shows them, marked
    assert sum(r["demo"] for r in json.loads(out)) == len(demo_rows)


def test_a_real_ask_records_its_run_id_and_source(fake_clis, monkeypatch, capsys) -> None:
    monkeypatch.setenv("PATH", f"{fake_clis.bin}:/usr/bin:/bin")
    fake_clis.set("codex", fixture="codex/ok.exec-json.jsonl")
    assert run_mm(capsys, "ask", "--models", "codex", "--prompt", "hi", "--json")[0] == 0
    (only,) = calls()
    assert (only["source"], only["demo"]) == ("ask", 0)
    assert str(only["run_id"]).startswith("ask-")


def test_demo_council_seats_share_one_run_id(capsys) -> None:
    code, out, _ = run_mm(capsys, "council", "--demo", "--prompt", "q", "--format", "json")
    assert code == 0, out
    recorded = calls()
    assert len(recorded) >= 3
    assert {(c["source"], c["demo"]) for c in recorded} == {("council", 1)}
    assert len({c["run_id"] for c in recorded}) == 1


def test_review_records_its_source(fake_clis, monkeypatch, capsys, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", f"{fake_clis.bin}:/usr/bin:/bin")
    fake_clis.set("codex", fixture="codex/ok.exec-json.jsonl")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "a.py").write_text("x = 1\n")
    monkeypatch.chdir(tmp_path)
    run_mm(capsys, "review", "a.py", "--models", "codex", "--format", "json")
    assert {c["source"] for c in calls()} == {"review"}


@pytest.mark.parametrize("n", [1, 2, 7, 100, 1001])
def test_sql_percentiles_are_nearest_rank(n: int) -> None:
    rng = random.Random(n)
    durations = [round(rng.uniform(0.1, 90), 3) for _ in range(n)]
    store = Store.of(os.environ)
    store.add_calls([row("codex", duration=d) for d in durations])
    store.add_calls([row("codex", duration=999.0, demo=1) for _ in range(n)])  # left out
    (found,) = history.stats(store, 0.0)
    ordered = sorted(durations)
    assert found["p50_s"] == round(history.percentile(ordered, 0.5) or 0, 3)
    assert found["p95_s"] == round(history.percentile(ordered, 0.95) or 0, 3)
    (since,) = history.stats(store, 1.0, "codex")  # the filtered plan gives the same
    assert (since["p50_s"], since["p95_s"]) == (found["p50_s"], found["p95_s"])
