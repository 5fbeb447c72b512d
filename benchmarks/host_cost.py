"""What a council costs its host (the Claude Code conversation), per council of 2 CLI seats
and 2 Claude seats (opus chairs), measured in the real Claude Code against the scripted
Messages API of the plugin tests, for answers of growing length:

    host turns        requests of the main conversation (the host model's turns)
    turns per stage   (host turns - 4 fixed: prepare, write, start, report) / 3 stages
    host tool calls   tool calls the host made (Bash, Write, Agent)
    host out tokens   what the host wrote (tool inputs and text), ~4 characters a token

The goal: host output independent of the answers' length (the host never copies a reply:
ratio 1.00 against the shortest answers) and at most one host turn per stage beyond the
fixed start (prepare, write the question, start) and end (the report). Hosts: follow (the
command text), background (the same, keeping the Agent tool's background default, 2.1.198+),
notified (background agents, then it waits for each task notification: more turns, by design
of that behaviour, still no copying).

    .venv/bin/python benchmarks/host_cost.py [--sizes 0,4000,40000] [--release newest]
                                              [--max-ratio 1.05]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from multi_model import demo
from tests.contract import harness
from tests.plugin.conftest import ROOT, Claude
from tests.plugin.hostcost import HostCost, host_cost

PANEL = "codex:gpt-5.4,gemini:gemini-3-pro,opus,sonnet"
STAGES = 3
FIXED = 4  # prepare, write the question, start; the final report


def measure(claude: Claude, size: int, host: str, folder: Path) -> HostCost:
    run = claude.run(
        "/multi-model:council Tabs or spaces?",
        env={
            "CLAUDE_PLUGIN_OPTION_PANEL": PANEL,
            "CLAUDE_PLUGIN_OPTION_CHAIRMAN": "opus",
            "MULTI_MODEL_HOME": str(folder / f"mm-{host}-{size:07d}"),
        },  # same-length paths
        mock={"CLAUDEAPI_ANSWER_BYTES": str(size), "CLAUDEAPI_HOST": host},
    )
    finished = any(
        e.get("type") == "result" and e["result"].startswith("COUNCIL-DONE") for e in run.events
    )
    if run.code != 0 or not finished:
        raise SystemExit(f"the council did not finish ({host}, {size} B): {run.stderr[-500:]}")
    return host_cost(run.requests)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0,4000,40000", help="Claude seats' answer bytes")
    parser.add_argument(
        "--release", default="all", help="a pin of clis.json (claude, claude@newest) or all"
    )
    parser.add_argument("--max-ratio", type=float, help="fail above this output ratio")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    pins = (
        harness.releases("claude")
        if args.release == "all"
        else [args.release if args.release.startswith("claude") else f"claude@{args.release}"]
    )
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        home, bindir = root / "home", root / "bin"
        home.mkdir()
        demo.install(bindir)
        subprocess.run(
            [str(ROOT / "scripts" / "mm"), "--version"],
            check=True,
            capture_output=True,
            env={"PATH": f"{bindir}:/usr/bin:/bin", "HOME": str(home)},
        )
        print(
            "release  host        answer B  turns  tool calls  out tokens  ratio  turns per stage"
        )
        for pin in pins:
            version = harness.PINS[pin]["version"]
            claude = Claude(
                binary=harness.binary(pin), home=home, bin=bindir, tmp=root, version=version
            )
            hosts = ["follow", "background", "notified"] if claude.newer else ["follow"]
            for host in hosts:
                base = None
                for size in sizes:
                    cost = measure(claude, size, host, root)
                    base = base or cost
                    ratio = cost.output_tokens / base.output_tokens
                    worst = max(worst, ratio)
                    print(
                        f"{version:8} {host:10} {size:9} {cost.turns:6} {cost.tool_calls:11}"
                        f" {cost.output_tokens:11} {ratio:6.2f} "
                        f"{(cost.turns - FIXED) / STAGES:15.1f}"
                    )
    print(
        f"ideal: ratio 1.00 (the host copies nothing); {FIXED} fixed turns (prepare, write, "
        "start, report) + 1 per stage (its Agent calls and the next step in one message)"
    )
    if args.max_ratio is not None and worst > args.max_ratio:
        print(f"FAIL: output ratio {worst:.2f} > {args.max_ratio}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
