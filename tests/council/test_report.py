"""The council's reports (Markdown and HTML) from one scripted run: what they show, in which
order, de-anonymized by the renderer only; long answers as marked excerpts; everything a
model wrote escaped in the HTML, which refers to nothing outside itself."""

from __future__ import annotations

import re
from pathlib import Path

from multi_model.council import stepview, tally, view
from multi_model.council.htmlreport import render_html
from multi_model.council.models import Ballot, BallotRecord, CouncilResult
from multi_model.council.report import render_report
from tests.council.test_run import Panel, council, ok, tag

SCRIPT = "<script>alert('x')</script>"


def run(tmp_path: Path, **answers: str) -> CouncilResult:
    panel = Panel(answers)
    panel.chair["a"] = ok("a", f"merged {SCRIPT}")
    return council(panel, tmp_path, chairman="a")


def test_markdown_report_reads_in_order(tmp_path: Path) -> None:
    result = run(tmp_path, a="alpha answer", b="beta answer", c="gamma answer")
    md = render_report(result)
    heads = re.findall(r"^## (.+?)(?: \(.*)?$", md, re.M)
    assert heads == [
        "Synthesis",
        "Verdict",
        "Ranking",
        "Answers",
        "Critiques",
        "Where reviewers disagreed",
        "Bias audit",
        "Proof of run",
    ]
    winner = view.standings(result)[0]
    assert f"{winner.seat}'s answer ranked first by {winner.first_places} of " in md
    assert "Legend:" in md and "Borda: points" in md and "ballots valid: 3 of 3" in md
    for text in ("> alpha answer", "> beta answer", "> gamma answer"):
        assert text in md
    assert "Position: answers shown earlier won" in md and "Kendall's W" in md
    assert re.search(r"^- a: ok \(a 1\.0, exit 0, 0\.0 s\)$", md, re.M)


def test_critiques_are_de_anonymized_by_the_renderer(tmp_path: Path) -> None:
    result = run(tmp_path)
    md = render_report(result)
    for b in view.ballots(result):
        assert b.ballot is not None
        for label, seat in b.label_map.items():
            critique = f"{tag(b.reviewer)} on {label}"
            assert b.ballot.critiques[label] == critique  # stored under the label
            section = md.split(f"### Of {seat}'s answer", 1)[1].split("###", 1)[0]
            assert f"**{b.reviewer}** (ranked it " in section and critique in section
    assert "Response A" not in md.split("## Critiques")[0]


def test_a_long_answer_is_a_marked_excerpt_with_its_file(tmp_path: Path) -> None:
    long = "word " * 2000
    result = run(tmp_path, b=long)
    md = render_report(result)
    assert f"the whole answer: {tmp_path / 'run' / 'stage1' / 'b.json'}" in md
    assert md.count("word") < 1000
    assert (tmp_path / "run" / "stage1" / "b.json").is_file()


def test_html_escapes_everything_a_model_wrote(tmp_path: Path) -> None:
    result = run(tmp_path, a=SCRIPT, b='"><img src=x onerror=alert(1)>', c="c & d")
    page = render_html(result)
    assert page.count("<script>") == 1  # the print helper only, allowed by hash
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "c &amp; d" in page
    assert "script-src 'sha256-" in page and "default-src 'none'" in page


def test_html_is_self_contained(tmp_path: Path) -> None:
    page = render_html(run(tmp_path))
    assert not re.search(r"(?:src|href)\s*=|url\(|@import|https?://", page)
    for part in ('id="synthesis"', 'id="ranking-chart"', 'id="ballot-matrix"', 'id="audit"'):
        assert part in page
    assert page.count('<details class="answer" open>') == 3
    assert "@media print" in page


def test_a_run_without_an_audit_or_ballots_still_renders(tmp_path: Path) -> None:
    result = run(tmp_path)
    bare = result.model_copy(update={"metadata": {}, "ballots": []})
    md = render_report(bare)
    assert "(no audit recorded for this run)" in md and "(no valid ballot)" in md
    assert "No audit recorded." in render_html(bare)


def _ballot(reviewer: str, order: list[str]) -> BallotRecord:
    labels = {f"Response {chr(65 + i)}": seat for i, seat in enumerate(order)}
    ballot = Ballot(token="t", critiques=dict.fromkeys(labels, "why"), ranking=list(labels))
    return BallotRecord(reviewer=reviewer, seed=1, label_map=labels, status="valid", ballot=ballot)


def test_disagreement_is_a_wide_spread_on_someone_elses_answer() -> None:
    orders = [
        (b, tally.full_order(b))
        for b in (
            _ballot("a", ["a", "x", "b", "c"]),  # a's own first: self-preference, not this
            _ballot("b", ["x", "b", "c", "a"]),
            _ballot("c", ["b", "c", "a", "x"]),
        )
    ]
    assert view.disagreements(orders, None) == [  # 4 answers: 2 places apart or more
        "x: ranked 1st by b but 4th by c",
        "b: ranked 1st by c but 3rd by a",
    ]


def test_the_hosts_report_names_the_answers_without_quoting_them(tmp_path: Path) -> None:
    """The host relays `report` verbatim: its size must not grow with the answers."""
    short = stepview.report(run(tmp_path / "s", a="x", b="y", c="z"))
    long = stepview.report(run(tmp_path / "l", a="x" * 40_000, b="y" * 9_000, c="z"))
    assert "x" * 100 not in long and "y" * 100 not in long
    assert abs(len(long) - len(short)) < 200
    assert re.search(r"^- a: answered, .*stage1", long, re.M), long
