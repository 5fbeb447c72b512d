"""The council's report as one self-contained HTML file: inline CSS, one tiny inline script
(open every answer before printing), no fonts, images or requests. Everything a model wrote
is escaped, and a Content-Security-Policy allows only that one script by its hash, so a
`<script>` in an answer is text and could not run even if escaping failed. Same content as
council/report.py, from council/view.py."""

from __future__ import annotations

import base64
import hashlib
from html import escape

from multi_model.council import view
from multi_model.council.models import CouncilResult

PRINT_SCRIPT = (
    "addEventListener('beforeprint',function(){"
    "document.querySelectorAll('details').forEach(function(d){d.open=true})})"
)
CSS = """
:root{--ink:#1d232b;--mute:#5b6573;--line:#d8dde3;--bg:#fff;--card:#f6f8fa;--accent:#2f6fb3}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);
background:var(--bg);margin:0 auto;max-width:1200px;padding:1.5rem 2rem}
h1{font-size:1.5rem;margin:.2rem 0 1rem}h2{font-size:1.15rem;margin:1.8rem 0 .6rem;
border-bottom:1px solid var(--line);padding-bottom:.2rem}
.question{color:var(--mute);white-space:pre-wrap}
.banner{background:#fff4d6;border:1px solid #e6c56a;padding:.3rem .6rem;border-radius:4px}
.verdict{font-size:1.05rem;background:var(--card);border-left:4px solid var(--accent);
padding:.6rem .9rem}
.text{white-space:pre-wrap;overflow-wrap:anywhere}
.synthesis .text{background:var(--card);padding:.8rem 1rem;border-radius:6px}
.answers{display:grid;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));gap:1rem}
details.answer{border:1px solid var(--line);border-radius:6px;padding:.5rem .8rem;
background:var(--bg)}
details.answer summary{cursor:pointer;font-weight:600}
details.answer .text{max-height:26rem;overflow:auto;font-size:.92rem}
.note,.legend{color:var(--mute);font-size:.85rem}
table{border-collapse:collapse;margin:.4rem 0}
th,td{border:1px solid var(--line);padding:.25rem .55rem;text-align:left;vertical-align:top}
th{background:var(--card)}
td.rank{text-align:center;font-weight:600;min-width:3rem}
td.own{outline:2px dashed var(--mute);outline-offset:-4px}
.chart{max-width:100%;height:auto}.chart text{font-size:12px;fill:var(--ink)}
ul.critiques li{margin:.2rem 0}
code{font-size:.85rem}
@media print{body{max-width:none;padding:0;font-size:11pt}
details.answer .text{max-height:none;overflow:visible}
.answers{grid-template-columns:1fr}section{break-inside:avoid-page}
details.answer{break-inside:avoid}}
"""


def render_html(result: CouncilResult) -> str:
    v = view.build(result)
    body = [
        '<p class="banner">DEMO: stand-in executables, no real model.</p>' if v.demo else "",
        "<h1>Council report</h1>",
        f'<p class="question">{_e(v.question)}</p>',
        _synthesis(v),
        f'<section id="verdict"><h2>Verdict</h2><p class="verdict">{_e(v.verdict)}</p></section>',
        _ranking(v),
        _answers(v),
        _matrix(v),
        _critiques(v),
        _audit(v),
        _proofs(v),
        f'<p class="note">Run directory: <code>{_e(v.run_dir or "")}</code></p>',
    ]
    return _page("\n".join(b for b in body if b))


def _page(body: str) -> str:
    digest = base64.b64encode(hashlib.sha256(PRINT_SCRIPT.encode()).digest()).decode()
    policy = f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
        '<meta name="viewport" content="width=device-width,initial-scale=1">\n'
        f"<title>Council report</title>\n<style>{CSS}</style>\n"
        f"<script>{PRINT_SCRIPT}</script>\n</head><body>\n{body}\n</body></html>\n"
    )


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _synthesis(v: view.ReportView) -> str:
    s = v.synthesis
    if s is None:
        failed = "; ".join(v.synthesis_failures)
        inner = f"<p>No chairman could write a synthesis ({_e(failed)}).</p>"
    else:
        note = f" (after {', '.join(s.fallback_from)} failed)" if s.fallback_from else ""
        inner = (
            f'<p class="note">Chairman: {_e(s.chairman + note)}</p>'
            f'<div class="text">{_e(s.text)}</div>'
        )
    return f'<section id="synthesis" class="synthesis"><h2>Synthesis</h2>{inner}</section>'


def _ranking(v: view.ReportView) -> str:
    rows = "".join(
        f"<tr><td>{r.place}</td><td>{_e(r.seat)}</td>"
        f"<td>{'-' if r.mean_rank is None else f'{r.mean_rank:.2f}'}</td>"
        f"<td>{r.borda:g}</td><td>{r.votes}</td><td>{r.first_places}</td></tr>"
        for r in v.rows
    )
    w = "n/a" if v.kendall_w is None else f"{v.kendall_w:.2f}"
    return (
        '<section id="ranking"><h2>Ranking</h2>'
        + _chart(v)
        + "<table><tr><th>place</th><th>seat</th><th>mean rank</th><th>Borda</th>"
        f"<th>votes</th><th>first places</th></tr>{rows}</table>"
        f"<p>Agreement (Kendall's W): <b>{w}</b>; ballots valid: <b>{v.ballots_valid}</b> of "
        f"{v.ballots_total}.</p>"
        f'<p class="legend">{_e(view.LEGEND)} Ties: {_e(v.tie_rule)}.</p></section>'
    )


def _chart(v: view.ReportView) -> str:
    """Horizontal bars of Borda points, best first, with each seat's mean rank as text."""
    top = max((r.borda for r in v.rows), default=0.0) or 1.0
    bar_h, label_w, width = 26, 230, 720
    bars = []
    for i, r in enumerate(v.rows):
        y = i * bar_h
        w = max(2.0, (width - label_w - 220) * r.borda / top)
        mean = "no ranks" if r.mean_rank is None else f"mean rank {r.mean_rank:.2f}"
        bars.append(
            f'<text x="0" y="{y + 17}">{_e(_short(r.seat))}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{bar_h - 8}" '
            f'fill="{_colour(r.place, len(v.rows))}" rx="3"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 17}">{r.borda:g} Borda · {mean}</text>'
        )
    height = bar_h * len(v.rows)
    return (
        f'<svg id="ranking-chart" class="chart" role="img" aria-label="Borda points per seat" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">{"".join(bars)}</svg>'
    )


def _answers(v: view.ReportView) -> str:
    cards = []
    place = {r.seat: r.place for r in v.rows}
    for a in v.answers:
        where = f" · place {place[a.seat]}" if a.seat in place else ""
        if a.status != "ok":
            inner = f"<p>No answer: {_e(a.error or a.status)}</p>"
        else:
            inner = f'<div class="text">{_e(a.text)}</div>'
            if a.excerpt:
                inner += (
                    f'<p class="note">Excerpt: its first {len(a.text)} characters; the whole '
                    f"answer: <code>{_e(a.file)}</code></p>"
                )
        cards.append(
            f'<details class="answer" open><summary>{_e(a.seat)} ({_e(a.status)}){where}'
            f"</summary>{inner}</details>"
        )
    cards_html = "".join(cards)
    return (
        f'<section id="answers"><h2>Answers</h2><div class="answers">{cards_html}</div></section>'
    )


def _matrix(v: view.ReportView) -> str:
    """Reviewer by answer: the place each reviewer gave, as a number and a colour."""
    seats = [r.seat for r in v.rows]
    size = max((p for p in v.matrix.values()), default=1)
    head = "".join(f"<th>{_e(_short(s))}</th>" for s in seats)
    rows = []
    for reviewer in v.reviewers:
        cells = []
        for s in seats:
            p = v.matrix.get((reviewer, s))
            own = " own" if reviewer == s else ""
            title = f"{reviewer} ranked {s} {view.nth(p)}" if p else f"{reviewer} did not rank {s}"
            style = f' style="background:{_colour(p, size)}"' if p else ""
            cells.append(f'<td class="rank{own}"{style} title="{_e(title)}">{p if p else "-"}</td>')
        rows.append(f"<tr><th>{_e(_short(reviewer))}</th>{''.join(cells)}</tr>")
    return (
        '<section id="ballots"><h2>Ballots</h2>'
        '<p class="note">Rows: reviewers; columns: answers; the place each reviewer gave '
        "(1 = best; green is better). A dashed cell is a reviewer's own answer.</p>"
        f'<table id="ballot-matrix"><tr><th>reviewer \\ answer</th>{head}</tr>'
        f"{''.join(rows)}</table>"
        + (
            "<ul>" + "".join(f"<li>Not counted: {_e(p)}</li>" for p in v.ballot_problems) + "</ul>"
            if v.ballot_problems
            else ""
        )
        + "</section>"
    )


def _critiques(v: view.ReportView) -> str:
    parts = []
    for a in v.answers:
        items = "".join(
            f"<li><b>{_e(c.reviewer)}</b>"
            + (f" (ranked it {view.nth(c.place)})" if c.place else "")
            + f': <span class="text">{_e(c.text)}</span></li>'
            for c in v.critiques.get(a.seat, [])
        )
        if items:
            parts.append(f'<h3>Of {_e(a.seat)}\'s answer</h3><ul class="critiques">{items}</ul>')
    disagreed = "".join(f"<li>{_e(x)}</li>" for x in v.disagreements) or (
        "<li>The reviewers broadly agreed: no answer's places spread widely.</li>"
    )
    return (
        f'<section id="critiques"><h2>Critiques</h2>{"".join(parts)}'
        f'<h3>Where reviewers disagreed</h3><ul id="disagreements">{disagreed}</ul></section>'
    )


def _audit(v: view.ReportView) -> str:
    if v.audit is None:
        return '<section id="audit"><h2>Bias audit</h2><p>No audit recorded.</p></section>'
    items = "".join(f"<li>{_e(x)}</li>" for x in view.audit_lines(v.audit))
    return (
        f'<section id="audit"><h2>Bias audit ({v.audit.ballots} valid ballots)</h2>'
        f"<ul>{items}</ul></section>"
    )


def _proofs(v: view.ReportView) -> str:
    rows = "".join(f"<tr><td>{_e(seat)}</td><td>{_e(line)}</td></tr>" for seat, line in v.proofs)
    return (
        '<section id="proof"><h2>Proof of run</h2>'
        "<table><tr><th>seat</th><th>status (provider and version, exit, time, tokens)</th>"
        f"</tr>{rows}"
        "</table></section>"
    )


def _colour(place: int, size: int) -> str:
    """Green for first to red for last, light enough for black text."""
    share = 0.0 if size <= 1 else (place - 1) / (size - 1)
    return f"hsl({round(120 * (1 - share))},60%,78%)"


def _short(seat: str) -> str:
    return seat if len(seat) <= 28 else seat[:27] + "…"
