"""The HTML report in a real browser (Debian's chromium, headless, offline, fresh profile):
the demo council's report loads from disk with its parts present, no console error and no
request but the file itself; a model's `<script>` stays text. A missing browser fails in CI
(CI=true) and skips locally (scripts/install-browser puts it in place)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from multi_model import cli
from multi_model.council import runs
from multi_model.council.htmlreport import render_html
from tests.browser import cdp

HOSTILE = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='img'\">"
PARTS = """JSON.stringify({
  title: document.title,
  synthesis: !!document.querySelector('#synthesis .text'),
  verdict: document.querySelector('#verdict')?.innerText || '',
  answers: document.querySelectorAll('#answers details.answer').length,
  open: document.querySelectorAll('#answers details[open]').length,
  bars: document.querySelectorAll('#ranking-chart rect').length,
  cells: document.querySelectorAll('#ballot-matrix td.rank').length,
  coloured: [...document.querySelectorAll('#ballot-matrix td.rank')]
    .filter(td => td.style.background).length,
  audit: document.querySelector('#audit')?.innerText || '',
  proofs: document.querySelectorAll('#proof tr').length - 1,
  scripts: document.scripts.length,
  images: document.images.length,
  answerText: [...document.querySelectorAll('#answers .text')].map(e => e.innerText).join('\\n'),
})"""


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[cdp.Browser]:
    binary = cdp.find()
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing in CI (scripts/install-browser)")
        pytest.skip("no chromium (scripts/install-browser installs it)")
    profile = tmp_path / "profile"
    profile.mkdir()
    b = cdp.Browser(binary, profile)
    try:
        yield b
    finally:
        b.close()


def demo_run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    """A demo council (its bundled stand-in CLIs), one answer carrying a script; its run dir."""
    monkeypatch.setenv("MM_DEMO_DELAY_S", "0")
    question = f"Should we cache the parsed config? {HOSTILE}"
    assert cli.main(["council", "--demo", "--format", "json", "--prompt", question]) == 0
    return Path(json.loads(capsys.readouterr().out)["metadata"]["run_dir"])


def test_the_demo_report_in_a_real_browser(
    browser: cdp.Browser,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = demo_run(monkeypatch, capsys)
    report = tmp_path / "report.html"
    assert cli.main(["council", "show", str(run), "--format", "html", "--output", str(report)]) == 0
    session, page = browser.open(report)
    parts = json.loads(browser.evaluate(session, PARTS))
    shot = browser.screenshot(session, tmp_path / "report.png")
    if os.environ.get("MM_REPORT_SCREENSHOT"):  # to look at it by hand
        shutil.copy(shot, os.environ["MM_REPORT_SCREENSHOT"])
    assert page.console_errors == []
    assert page.requests == [report.as_uri()]
    assert parts["title"] == "Council report"  # the answer's script did not run
    assert parts["scripts"] == 1 and parts["images"] == 0
    assert "<script>document.title='pwned'</script>" in parts["answerText"]
    assert parts["synthesis"] and "ranked first by" in parts["verdict"]
    assert parts["answers"] == parts["open"] == 3
    assert parts["bars"] == 3 and parts["cells"] == parts["coloured"] == 9
    assert "Position:" in parts["audit"] and "Kendall's W" in parts["audit"]
    assert parts["proofs"] == 3
    assert shot.stat().st_size > 20_000


def test_the_recorder_sees_a_request_and_a_console_error(
    browser: cdp.Browser, tmp_path: Path
) -> None:
    """The checks above can fail: a page that fetches and logs an error is caught."""
    page_file = tmp_path / "leaky.html"
    page_file.write_text(
        '<img src="http://127.0.0.1:9/pixel.png"><script>console.error("boom")</script>'
    )
    _, page = browser.open(page_file)
    assert "http://127.0.0.1:9/pixel.png" in page.requests
    assert any("boom" in e for e in page.console_errors)


def test_printing_opens_every_answer(
    browser: cdp.Browser,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    report = tmp_path / "report.html"
    report.write_text(render_html(runs.load(demo_run(monkeypatch, capsys))))
    session, _ = browser.open(report)
    browser.evaluate(session, "document.querySelectorAll('details').forEach(d => d.open = false)")
    pdf = browser.call("Page.printToPDF", session)["data"]
    assert browser.evaluate(session, "document.querySelectorAll('details[open]').length") == 3
    assert len(pdf) > 10_000
