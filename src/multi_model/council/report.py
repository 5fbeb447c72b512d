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
    s = result.stage3_synthesis
    if s is None:
        failures = "; ".join(str(f) for f in result.metadata.get("chairman_failures") or [])
        return f"## Synthesis\n\nNo chairman could write a synthesis ({failures})."
    note = (f" (after {', '.join(s.fallback_from)} failed)" if s.fallback_from else "")
    return f"## Synthesis (chairman: {s.chairman}{note})\n\n{s.text}"


def _ranking(result: CouncilResult) -> str:
    lines = ["## Ranking", "", "| place | seat | mean rank | Borda | votes |",
             "|---|---|---|---|---|"]
    for row in result.aggregate_ranks:
        mean = "-" if row.mean_rank is None else f"{row.mean_rank:.2f}"
        lines.append(f"| {row.place} | {row.seat} | {mean} | {row.borda:g} | {row.votes} |")
    w = result.metadata.get("kendall_w")
    lines.append("")
    lines.append(f"Agreement (Kendall's W): {'n/a' if w is None else w}; "
                 f"ties: {result.metadata.get('tie_rule')}.")
    return "\n".join(lines)


def _seats(result: CouncilResult) -> str:
    return "## Seats\n\n" + "\n".join(f"- {_seat_line(r)}" for r in result.stage1_responses)


def _seat_line(r: Response) -> str:
    proof = ", ".join(x for x in (r.cli_version and f"{r.provider} {r.cli_version}",
                                  r.exit_code is not None and f"exit {r.exit_code}",
                                  f"{r.duration_s:.1f} s",
                                  r.model_reported and f"model {r.model_reported}") if x)
    error = f" — {r.error.splitlines()[0][:160]}" if r.error else ""
    return f"{r.model}: {r.status} ({proof}){error}"


def _ballots(result: CouncilResult) -> str:
    lines = [f"- {b.reviewer}: {b.status}" + (f" after {b.attempts} tries" if b.attempts > 1
                                                else "")
             + (f" — {b.error or '; '.join(b.errors)[:200]}" if b.status != "valid" else "")
             for b in result.stage2_rankings]
    return "## Ballots\n\n" + ("\n".join(lines) or "(none)")
