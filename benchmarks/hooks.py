"""The edit-review hooks: latency of one hook run, and reviews per burst of edits.

    python benchmarks/hooks.py [--runs 200] [--burst 50] [--python python3]

1. Latency: `python3 -S hooks/review_hook.py` fed a Write payload, as Claude Code runs it,
   `--runs` times in each state; p50 and p95 in ms, and the ratio to a bare `python3 -c pass`
   (the ideal: the hook costs nothing beyond starting Python). States:
     off       the default: the mode is read and nothing else happens
     edit      the edit is recorded; the session's reviewer already runs (its lock is held
               here), so nothing is started: the steady state while Claude edits
     deliver   a Read after a review: the findings are read and returned as context
   Target: p95 < 100 ms for edit. Both sides use `--python` (hooks.json says `python3`, so
   a version-manager shim on PATH, which can cost ~100 ms itself, counts for both).
2. Burst: `--burst` Write hooks back to back in edit mode with the real background reviewer
   (demo stand-ins as the reviewer CLIs) and the default batching; prints how many reviews
   it took (ideal: 1).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOOK = ROOT / "hooks" / "review_hook.py"
sys.path.insert(0, str(ROOT / "src"))

from multi_model import demo  # noqa: E402
from multi_model.review.session import Session, set_mode  # noqa: E402


def write_payload(project: Path, session: str, n: int) -> str:
    path = project / f"m{n}.py"
    content = f"def f{n}(x):\n    return x + {n}\n"
    path.write_text(content)
    return json.dumps(
        {
            "session_id": session,
            "transcript_path": "/dev/null",
            "cwd": str(project),
            "prompt_id": "p",
            "permission_mode": "acceptEdits",
            "effort": {"level": "high"},
            "hook_event_name": "PostToolUse",
            "tool_name": "Write",
            "tool_input": {"file_path": str(path), "content": content},
            "tool_response": {
                "type": "create",
                "filePath": str(path),
                "content": content,
                "structuredPatch": [],
                "originalFile": None,
                "userModified": False,
            },
            "tool_use_id": f"toolu_{n}",
            "duration_ms": 5,
        }
    )


def percentiles(argv: list[str], stdin: str, env: dict[str, str], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, input=stdin, env=env, capture_output=True, text=True, check=True)
        samples.append(time.perf_counter() - start)
    samples.sort()
    return statistics.median(samples) * 1000, samples[int(len(samples) * 0.95) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--python", default="python3", help="interpreter for hook and bare")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        project, bindir = root / "project", root / "bin"
        project.mkdir()
        demo.install(bindir)
        base = {
            "PATH": f"{bindir}:{os.environ['PATH']}",
            "HOME": os.environ["HOME"],
            "MULTI_MODEL_HOME": str(root / "home"),
            "CLAUDE_PROJECT_DIR": str(project),
            "LANG": "C.UTF-8",
        }
        (root / "home").mkdir()
        (root / "home" / "config.toml").write_text('[review]\nreviewers = ["codex", "gemini"]\n')
        hook = [args.python, "-S", str(HOOK)]
        bare = percentiles([args.python, "-c", "pass"], "", base, args.runs)
        print(f"bare {args.python} -c pass: p50 {bare[0]:.1f} ms  p95 {bare[1]:.1f} ms")
        results = {"off": percentiles(hook, write_payload(project, "off", 0), base, args.runs)}
        set_mode(base, "edit", str(project))
        session = Session.of(base, "steady")
        session.create(str(project))
        holder = os.open(session.lock_file, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(holder, fcntl.LOCK_EX)  # "the reviewer runs": the hook starts nothing
        results["edit"] = percentiles(hook, write_payload(project, "steady", 1), base, args.runs)
        session.add_review(
            {
                "id": 1,
                "t": time.time(),
                "findings": [
                    {
                        "file": "m1.py",
                        "line": 2,
                        "severity": "high",
                        "title": "Overflow",
                        "detail": "x + 1 overflows",
                        "suggestion": None,
                        "reviewers": ["codex"],
                        "agreement": "1 of 1",
                    }
                ],
                "reviewers": [],
            }
        )
        read = json.dumps(
            {
                **json.loads(write_payload(project, "steady", 1)),
                "tool_name": "Read",
                "tool_input": {"file_path": "m1.py"},
            }
        )
        results["deliver"] = percentiles(hook, read, base, args.runs)
        os.close(holder)
        for state, (p50, p95) in results.items():
            print(
                f"hook {state:8} p50 {p50:5.1f} ms  p95 {p95:5.1f} ms   ratio to bare "
                f"p50 {p50 / bare[0]:.2f}  p95 {p95 / bare[1]:.2f}"
            )

        burst = Session.of(base, f"burst-{uuid.uuid4().hex[:6]}")
        sid = burst.dir.name
        start = time.perf_counter()
        for n in range(args.burst):
            subprocess.run(
                hook,
                input=write_payload(project, sid, n),
                env=base,
                capture_output=True,
                text=True,
                check=True,
            )
        spread = time.perf_counter() - start
        deadline = time.monotonic() + 300
        while sum(r.get("edits", 0) for r in burst.reviews()) < args.burst:
            if time.monotonic() > deadline:
                sys.exit(f"reviews did not finish; log: {burst.log}")
            time.sleep(0.2)
        reviews = burst.reviews()
        print(
            f"burst of {args.burst} edits over {spread:.1f} s: {len(reviews)} review(s) "
            f"(ideal 1; edits per review: {[r['edits'] for r in reviews]})"
        )
        (burst.dir / "ended").write_text("")


if __name__ == "__main__":
    main()
