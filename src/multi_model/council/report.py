"""The council's Markdown report: synthesis first, then the ranking table, one status line per
seat and per ballot, and the run directory. The only place that shows seats by name."""

from __future__ import annotations

from multi_model.council.models import CouncilResult
from multi_model.models import Response


def render_report(result: CouncilResult) -> str:
    parts = [_synthesis(result), _ranking(result), _seats(result), _ballots(result)]
    parts.append(f"Run directory: {result.metadata.get('run_dir')}")
    return "\n\n".join(parts) + "\n"


def _synthesis(result: CouncilResult) -> str:
    s = result.synthesis
    if s is None:
        listed = result.metadata.get("chairman_failures")
        failures = "; ".join(str(f) for f in listed) if isinstance(listed, list) else ""
        return f"## Synthesis\n\nNo chairman could write a synthesis ({failures})."
    note = f" (after {', '.join(s.fallback_from)} failed)" if s.fallback_from else ""
    return f"## Synthesis (chairman: {s.chairman}{note})\n\n{s.text}"


def _ranking(result: CouncilResult) -> str:
    lines = [
        "## Ranking",
        "",
        "| place | seat | mean rank | Borda | votes |",
        "|---|---|---|---|---|",
    ]
    for row in result.standings:
        mean = "-" if row.mean_rank is None else f"{row.mean_rank:.2f}"
        lines.append(f"| {row.place} | {row.seat} | {mean} | {row.borda:g} | {row.votes} |")
    w = result.metadata.get("kendall_w")
    lines.append("")
    lines.append(
        f"Agreement (Kendall's W): {'n/a' if w is None else w}; "
        f"ties: {result.metadata.get('tie_rule')}."
    )
    return "\n".join(lines)


def _seats(result: CouncilResult) -> str:
    return "## Seats\n\n" + "\n".join(f"- {_seat_line(r)}" for r in result.answers)


def _seat_line(r: Response) -> str:
    error = f" — {r.error.splitlines()[0][:160]}" if r.error else ""
    return f"{r.model}: {r.status} ({_proof(r)}){error}"


def _proof(r: Response) -> str:
    """What shows the seat ran: the CLI's version, exit code, time and the model it reported.
    A Claude seat run by the host's Agent tool has no process record and says so; an ok CLI
    answer without one is flagged (someone wrote it, no CLI was seen running)."""
    if r.metadata.get("seat_kind") == "agent":
        model = r.metadata.get("agent_model") or "host's model"
        return f"Claude Code subagent, {model}, no process record, {r.duration_s:.1f} s"
    parts = [
        x
        for x in (
            r.cli_version and f"{r.provider} {r.cli_version}",
            r.exit_code is not None and f"exit {r.exit_code}",
            f"{r.duration_s:.1f} s",
            r.model_reported and f"model {r.model_reported}",
        )
        if x
    ]
    if r.ok and r.exit_code is None and not str(r.cli_used or "").startswith("http"):
        parts.insert(0, "no process record")
    return ", ".join(parts)


def _ballots(result: CouncilResult) -> str:
    lines = [
        f"- {b.reviewer}: {b.status}"
        + (f" after {b.attempts} tries" if b.attempts > 1 else "")
        + (f" — {b.error or '; '.join(b.errors)[:200]}" if b.status != "valid" else "")
        for b in result.ballots
    ]
    return "## Ballots\n\n" + ("\n".join(lines) or "(none)")
