"""The council: parallel answers, blind peer-ranked review with strict JSON ballots, and a
chairman's synthesis.

    run_council(prompt, panel, chairman=None, dispatch_fn=None, timeout=300, seed=None)
    run_stage1(prompt, panel) / run_stage2(prompt, responses) /
    run_stage3(prompt, responses, rankings, chairman=None)   the stages one by one (run.py)

Modules: models (data), stages (the three stages), tally (ranks, Borda, Kendall's W),
ballot (the ballot schema and parser), anonymize (labels, shuffles, nonces), store (the run
directory: every path in it), report (Markdown), command (the one-shot run behind `mm
council`), stepview (a step shown to the host) and hosted/ (`mm council start | next | ...`:
the council in steps through Claude Code; their command line is in multi_model.commands).
"""

from __future__ import annotations

from typing import Any

__all__ = ["CouncilResult", "run_council", "run_stage1", "run_stage2", "run_stage3"]


def __getattr__(name: str) -> Any:  # lazy: `mm ask` never pays for the council's imports
    if name == "run_council":
        from multi_model.council.run import run_council  # noqa: PLC0415 - start-up, see above

        return run_council
    if name == "CouncilResult":
        from multi_model.council.models import CouncilResult  # noqa: PLC0415 - start-up

        return CouncilResult
    if name in ("run_stage1", "run_stage2", "run_stage3"):
        from multi_model.council import run  # noqa: PLC0415 - start-up, see above

        return getattr(run, name)
    raise AttributeError(f"module 'multi_model.council' has no attribute {name!r}")
