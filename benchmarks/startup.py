"""Start-up cost of `mm`: whole-process wall time of three commands against the bare import of
the two libraries every command could need.

    python benchmarks/startup.py [--runs 15] [--max-ask-ratio 1.1] [--src DIR]

Measured (median of `--runs`, after one warm-up run each):
    baseline      python -c "import pydantic, jsonschema"
    mm ask        one model (codex:gpt-5.4) whose CLI is the demo's stand-in with its simulated
                  latency taken out: what is left is mm's start-up, routing and bookkeeping
                  (and the stand-in's own Python start, ~20 ms)
    mm detect     those instant stand-ins alone on PATH
    mm council    --demo: the demo's own stand-ins, latency included (0.5-0.8 s a call, so
                  ~2.4 s of its time is the stand-ins' simulated wait, three stages of it)
Each is printed in ms and as a ratio to the baseline (the goal for `mm ask`: <= 1.1). Runs in a
temp dir (MULTI_MODEL_HOME) that is removed afterwards: no real CLI, no network, no user
config. `--src` times another checkout's package (its `src` folder), for a before/after.
Exit status 1 when a command fails or `mm ask` is over `--max-ask-ratio`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from multi_model import demo  # noqa: E402 - after the path set-up above

BASELINE = [sys.executable, "-c", "import pydantic, jsonschema"]
MM = [sys.executable, "-m", "multi_model"]
COMMANDS = {
    "mm ask": [*MM, "ask", "--models", "codex:gpt-5.4", "--prompt", "Disk or memory?"],
    "mm detect": [*MM, "detect"],
    "mm council --demo": [*MM, "council", "--demo", "--prompt", "Disk or memory?", "--seed", "1"],
}


def timed(argv: list[str], env: dict[str, str], runs: int) -> float:
    """Median wall seconds of `runs` runs (after one warm-up run that fills the caches)."""
    samples = []
    for n in range(runs + 1):
        start = time.perf_counter()
        done = subprocess.run(
            argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(
                f"{' '.join(argv[2:])} exited {done.returncode}: "
                f"{done.stderr.decode(errors='replace')[-400:]}"
            )
        if n:
            samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def instant(bindir: Path) -> Path:
    """The stand-ins in `bindir` without their simulated latency."""
    for name in demo.STANDINS:
        path = bindir / name
        text = path.read_text(encoding="utf-8")
        start = text.index("DELAYS_S = {")
        end = text.index("}", start) + 1
        zero = repr(dict.fromkeys(demo.STANDINS, 0.0))
        path.write_text(f"{text[:start]}DELAYS_S = {zero}{text[end:]}", encoding="utf-8")
    return bindir


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--max-ask-ratio", type=float, help="exit 1 when mm ask is over this")
    parser.add_argument("--src", type=Path, default=ROOT / "src", help="the package to time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        bindir = instant(demo.install(Path(home) / "bin"))
        env = {
            "PATH": str(bindir),
            "HOME": home,
            "MULTI_MODEL_HOME": home,
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(args.src.resolve()),
        }
        base = timed(BASELINE, env, args.runs)
        print(f"baseline (import pydantic, jsonschema): {base * 1000:.1f} ms")
        ratios = {}
        for name, argv in COMMANDS.items():
            wall = timed(argv, env, args.runs)
            ratios[name] = wall / base
            print(f"{name}: {wall * 1000:.1f} ms   ratio {ratios[name]:.2f}")
    if args.max_ask_ratio is not None and ratios["mm ask"] > args.max_ask_ratio:
        print(f"mm ask: ratio {ratios['mm ask']:.2f} > {args.max_ask_ratio}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
