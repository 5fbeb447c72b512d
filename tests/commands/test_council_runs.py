"""`mm council show RUN` and `mm council list` over real demo runs (the bundled stand-in
CLIs), and hostile run directories: one line on stderr, exit 2, never a traceback."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from multi_model import cli
from multi_model.council.hosted.rundir import runs_dir

Cap = pytest.CaptureFixture[str]


def demo_run(monkeypatch: pytest.MonkeyPatch, capsys: Cap, question: str = "Tabs?") -> Path:
    monkeypatch.setenv("MM_DEMO_DELAY_S", "0")
    assert cli.main(["council", "--demo", "--format", "json", "--prompt", question]) == 0
    return Path(json.loads(capsys.readouterr().out)["metadata"]["run_dir"])


def mm(capsys: Cap, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["council", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_show_re_renders_a_run_by_id_or_path(monkeypatch: pytest.MonkeyPatch, capsys: Cap) -> None:
    run = demo_run(monkeypatch, capsys)
    code, by_id, _ = mm(capsys, "show", run.name)
    assert code == 0 and by_id.startswith("**DEMO**") and "## Bias audit" in by_id
    assert "[DEMO stand-in for codex]" in by_id
    assert mm(capsys, "show", str(run))[1] == by_id
    code, out, _ = mm(capsys, "show", run.name, "--format", "json")
    assert json.loads(out)["metadata"]["run_dir"] == str(run)
    code, out, _ = mm(capsys, "show", run.name, "--format", "html")
    assert code == 0 and out.startswith("<!DOCTYPE html>")


def test_show_moved_run_points_at_its_new_place(
    monkeypatch: pytest.MonkeyPatch, capsys: Cap, tmp_path: Path
) -> None:
    moved = tmp_path / "moved"
    shutil.move(demo_run(monkeypatch, capsys), moved)
    code, out, _ = mm(capsys, "show", str(moved))
    assert code == 0 and f"Run directory: {moved}" in out


def test_html_to_a_file(monkeypatch: pytest.MonkeyPatch, capsys: Cap, tmp_path: Path) -> None:
    monkeypatch.setenv("MM_DEMO_DELAY_S", "0")
    out = tmp_path / "r.html"
    argv = ["council", "--demo", "--format", "html", "--output", str(out), "--prompt", "x"]
    assert cli.main(argv) == 0
    assert capsys.readouterr().out == f"Report (html): {out}\n"
    assert out.read_text().startswith("<!DOCTYPE html>") and "DEMO" in out.read_text()


def test_list_shows_date_question_winner_seats(
    monkeypatch: pytest.MonkeyPatch, capsys: Cap
) -> None:
    assert "No council runs yet" in mm(capsys, "list")[1]
    first = demo_run(monkeypatch, capsys, "A question | with a pipe " + "long " * 30)
    (runs_dir(os.environ) / "20990101-000000-unfinished").mkdir()
    code, out, _ = mm(capsys, "list")
    rows = out.splitlines()
    assert code == 0 and rows[0] == "| date | run | question | winner | seats | state |"
    assert "| 2099-01-01 00:00 | 20990101-000000-unfinished |" in rows[2]
    assert rows[2].endswith("| unfinished |")
    assert first.name in rows[3] and "A question \\| with a pipe long" in rows[3]
    assert "…" in rows[3] and rows[3].endswith("| done |")
    listed = json.loads(mm(capsys, "list", "--format", "json")[1])
    assert listed[1]["winner"] == "codex:gpt-5.4" and len(listed[1]["seats"]) == 3


@pytest.mark.parametrize("case", ["bad json", "not a result", "symlink out", "fifo"])
def test_show_refuses_a_hostile_result_in_one_line(
    case: str, monkeypatch: pytest.MonkeyPatch, capsys: Cap, tmp_path: Path
) -> None:
    run = demo_run(monkeypatch, capsys)
    result = run / "result.json"
    result.unlink()
    if case == "bad json":
        result.write_text("{")
    elif case == "not a result":
        result.write_text('{"question": 3}')
    elif case == "symlink out":
        secret = tmp_path / "secret.json"
        secret.write_text(json.dumps({"question": "SECRET"}))
        result.symlink_to(secret)
    else:
        os.mkfifo(result)
    code, out, err = mm(capsys, "show", run.name)
    assert code == 2 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert "SECRET" not in err and str(result) in err
    assert "unreadable: " in mm(capsys, "list")[1]


def test_show_refuses_bad_ids_and_symlinked_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: Cap, tmp_path: Path
) -> None:
    run = demo_run(monkeypatch, capsys)
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(run, elsewhere)
    (runs_dir(os.environ) / "linked").symlink_to(elsewhere)
    for ref, says in (
        ("linked", "is a symlink"),
        ("..", "not a run id"),
        ("nope", "no council run at nope"),
    ):
        code, _, err = mm(capsys, "show", ref)
        assert code == 2 and says in err and err.count("\n") == 1
    assert "linked" not in mm(capsys, "list")[1]


def test_show_a_run_without_a_result(monkeypatch: pytest.MonkeyPatch, capsys: Cap) -> None:
    run = demo_run(monkeypatch, capsys)
    (run / "result.json").unlink()
    assert "has no result yet" in mm(capsys, "show", run.name)[2]
    (run / "failed.json").write_text("{}")
    code, _, err = mm(capsys, "show", run.name)
    assert code == 2 and "failed without a result (failed.json)" in err
