"""Council wall time against the ideal: a panel of 4 seats on stand-in CLIs whose every call
takes 1.0 s. Three stages, each one round of parallel calls, so the ideal is 3.0 s; a council
that ran seats one after another would take 4 + 4 + 1 = 9 s. The CLI versions are probed
once before timing (they are cached from the first use on), as in steady use.

    .venv/bin/python benchmarks/council.py [--delay 1.0] [--max-ratio 1.15]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from multi_model import demo
from multi_model.config import ProviderSettings, Settings
from multi_model.council.run import run_council
from multi_model.council.store import RunStore
from multi_model.detect import cached_version
from multi_model.fanout import dispatch
from multi_model.providers import builtin

PANEL = ["codex:m1", "gemini:m2", "cursor-agent:m3", "codex:m4"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--delay", type=float, default=1.0)
    parser.add_argument("--max-ratio", type=float)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MULTI_MODEL_HOME"] = tmp
        bindir = demo.install(Path(tmp) / "bin")
        env = {**demo.demo_env(bindir, os.environ), "MM_DEMO_DELAY_S": str(args.delay)}
        passthrough = ProviderSettings(env=["MM_DEMO_DELAY_S"])
        settings = Settings(providers={n: passthrough for n in ("codex", "gemini", "cursor-agent")})
        for name in ("codex", "gemini", "cursor-agent"):
            cached_version(builtin(name), str(bindir / name), env, 10)
        start = time.monotonic()
        result = run_council(
            "Benchmark question?",
            PANEL,
            seed=1,
            store=RunStore(Path(tmp) / "run"),
            dispatch_fn=lambda p, m: dispatch(m, p, settings=settings, env=env),
        )
        wall = time.monotonic() - start
    ideal = 3 * args.delay
    valid = sum(b.status == "valid" for b in result.ballots)
    print(
        f"council: {len(PANEL)} seats, every call {args.delay:.2f} s, {valid} valid ballots, "
        f"synthesis by {result.chairman_model}"
    )
    print(
        f"  wall {wall:.3f} s -> ratio {wall / ideal:.3f} (ideal {ideal:.1f} s = 1.00, "
        f"target <= 1.15; seats one after another: {(2 * len(PANEL) + 1) / 3:.2f})"
    )
    timings = result.metadata.get("timings_s")
    print(f"  stages: {timings}")
    ok = valid == len(PANEL) and result.synthesis is not None
    return 0 if ok and (args.max_ratio is None or wall / ideal <= args.max_ratio) else 1


if __name__ == "__main__":
    sys.exit(main())
