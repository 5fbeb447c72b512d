"""The council's Markdown report (also what the terminal shows): synthesis first, the verdict,
the ranking with its legend, every answer, each reviewer's critiques, where reviewers
disagreed, the bias audit, one proof-of-run line per seat, and the run directory. With
council/htmlreport.py, the only place that shows seats by name (from council/view.py)."""

from __future__ import annotations

from multi_model.council import view
from multi_model.council.models import CouncilResult


def render_report(result: CouncilResult, answers: bool = True) -> str:
    """The report; `answers=False` lists the answers by seat and size instead of quoting them
    (what the hosted council's host relays: its output must not grow with the answers)."""
    v = view.build(result)
    parts = [
        _synthesis(v),
        f"## Verdict\n\n{v.verdict}",
        _ranking(v),
        _answers(v) if answers else _answer_sizes(v),
        _critiques(v),
        _disagreements(v),
        _audit(v),
        _proofs(v),
    ]
    if v.ballot_problems:
        parts.append("## Ballots not counted\n\n" + "\n".join(f"- {p}" for p in v.ballot_problems))
    parts.append(f"Run directory: {v.run_dir}")
    return "\n\n".join(parts) + "\n"


def _synthesis(v: view.ReportView) -> str:
    s = v.synthesis
    if s is None:
        why = "; ".join(v.synthesis_failures)
        return f"## Synthesis\n\nNo chairman could write a synthesis ({why})."
    note = f" (after {', '.join(s.fallback_from)} failed)" if s.fallback_from else ""
    return f"## Synthesis (chairman: {s.chairman}{note})\n\n{s.text}"


def _ranking(v: view.ReportView) -> str:
    lines = [
        "## Ranking",
        "",
        "| place | seat | mean rank | Borda | votes |",
        "|---|---|---|---|---|",
    ]
    for row in v.rows:
        mean = "-" if row.mean_rank is None else f"{row.mean_rank:.2f}"
        lines.append(f"| {row.place} | {_cell(row.seat)} | {mean} | {row.borda:g} | {row.votes} |")
    w = "n/a" if v.kendall_w is None else f"{v.kendall_w:.2f}"
    lines += [
        "",
        f"Agreement (Kendall's W): {w}; ballots valid: {v.ballots_valid} of {v.ballots_total}; "
        f"ties: {v.tie_rule}.",
        "",
        f"_Legend: {view.LEGEND}_",
    ]
    return "\n".join(lines)


def _answers(v: view.ReportView) -> str:
    parts = ["## Answers"]
    for a in v.answers:
        if a.status != "ok":
            parts.append(f"### {a.seat} ({a.status})\n\n_No answer: {a.error or a.status}._")
            continue
        body = _quoted(a.text)
        if a.excerpt:
            body += (
                f"\n\n_[excerpt: its first {len(a.text)} characters; the whole answer: {a.file}]_"
            )
        parts.append(f"### {a.seat}\n\n{body}")
    return "\n\n".join(parts)


def _answer_sizes(v: view.ReportView) -> str:
    lines = [
        f"- {a.seat}: "
        + ("answered" if a.status == "ok" else f"no answer ({a.status})")
        + (f", {a.file}" if a.file and a.status == "ok" else "")
        for a in v.answers
    ]
    return "## Answers\n\nQuoted in the report file; each whole answer:\n\n" + "\n".join(lines)


def _critiques(v: view.ReportView) -> str:
    parts = ["## Critiques"]
    for a in v.answers:
        said = v.critiques.get(a.seat, [])
        if not said:
            continue
        lines = [f"### Of {a.seat}'s answer", ""]
        for c in said:
            own = ", its own answer" if c.reviewer == c.seat else ""
            place = f" (ranked it {view.nth(c.place)}{own})" if c.place else ""
            lines.append(f"- **{c.reviewer}**{place}: {_one_line(c.text)}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) if len(parts) > 1 else "## Critiques\n\n(no valid ballot)"


def _disagreements(v: view.ReportView) -> str:
    lines = v.disagreements or ["The reviewers broadly agreed: no answer's places spread widely."]
    return "## Where reviewers disagreed\n\n" + "\n".join(f"- {x}" for x in lines)


def _audit(v: view.ReportView) -> str:
    if v.audit is None:
        return "## Bias audit\n\n(no audit recorded for this run)"
    lines = view.audit_lines(v.audit)
    return f"## Bias audit ({v.audit.ballots} valid ballots)\n\n" + "\n".join(
        f"- {x}" for x in lines
    )


def _proofs(v: view.ReportView) -> str:
    return "## Proof of run\n\n" + "\n".join(f"- {seat}: {line}" for seat, line in v.proofs)


def _quoted(text: str) -> str:
    """A model's text as a block quote, so its headings cannot pose as the report's."""
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines()) or "> (empty)"


def _one_line(text: str) -> str:
    return " ".join(text.split()) or "(empty)"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
