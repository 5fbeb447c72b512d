"""Warm-path cost of scripts/mm, the plugin's launcher: `mm --version` through the launcher
against the same command run directly in the environment it built (the ideal: the launcher's
stamp check and exec cost nothing).

    python benchmarks/launcher.py [--runs 30]

Prints the median wall time of each, the ratio, and the overhead split into the start of the
launcher's own interpreter (`env -S python3 -S -c pass`, which depends on what python3 is on
PATH: a pyenv shim alone costs ~100 ms) and the rest (stamp check and exec), which is the
launcher's own cost and should be a few ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOT = (
    "import sys; sys.path.insert(0, sys.argv.pop(1)); from multi_model.cli import main; "
    "sys.exit(main())"
)


def timed(argv: list[str], env: dict[str, str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "CLAUDE_PLUGIN_DATA": data}
        launcher = [str(ROOT / "scripts" / "mm"), "--version"]  # its shebang, as Claude runs it
        subprocess.run(
            launcher, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=True
        )  # the cold build, not measured
        direct = [
            str(Path(data) / "venv" / "bin" / "python"),
            "-c",
            BOOT,
            str(ROOT / "src"),
            "--version",
        ]
        ideal = timed(direct, env, args.runs)
        through = timed(launcher, env, args.runs)
        start = timed(["/usr/bin/env", "-S", "python3 -S -c pass"], env, args.runs)
    python3 = shutil.which("python3") or "?"
    print(
        f"direct (ideal): {ideal * 1000:.1f} ms   through scripts/mm: {through * 1000:.1f} ms"
        f"   ratio: {through / ideal:.2f}"
    )
    print(
        f"overhead {(through - ideal) * 1000:.1f} ms = interpreter start "
        f"{start * 1000:.1f} ms ({python3}) + check and exec "
        f"{(through - ideal - start) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    main()
