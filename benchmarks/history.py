"""History cost: the write a dispatch adds per call, and `mm history --stats` over 400k rows.

    python benchmarks/history.py [--writes 500] [--rows 400000]

1. Write overhead: `History.record` of one answered Response (a row with usage and a price
   lookup, one WAL transaction), the way dispatch records each call, `--writes` times into a
   store that already holds `--rows` rows. Target < 5 ms per call; printed as the median and
   p95 and their ratio to the target (the ideal is 0: recording costs nothing).
2. `mm history --stats` over `--rows` rows of 8 providers, as a subprocess (interpreter start
   included), and `history.stats()` alone. Target < 1 s. One row in ten is a --demo call
   (left out of the stats). Also printed: the old way (every duration sorted in Python) over
   the same rows, and its ratio to `history.stats()` (percentiles in SQLite).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from multi_model import history  # noqa: E402
from multi_model.config import Settings  # noqa: E402
from multi_model.fanout import History  # noqa: E402
from multi_model.models import Response, Usage  # noqa: E402
from multi_model.store import CallRecord, Store  # noqa: E402

PROVIDERS = ("codex", "gemini", "cursor-agent", "qwen", "opencode", "copilot", "claude", "ollama")


def fill(store: Store, rows: int) -> None:
    rng = random.Random(1)
    now = time.time()
    batch = []
    for _ in range(rows):
        batch.append(
            CallRecord(
                t=now - rng.uniform(0, 30 * 86400),
                spec="m",
                provider=rng.choice(PROVIDERS),
                model_requested="gpt-5.4",
                model_reported=None,
                status="ok" if rng.random() < 0.9 else "timeout",
                error=None,
                duration_s=rng.uniform(1, 60),
                input_tokens=1000,
                cached_tokens=100,
                output_tokens=200,
                cost_usd=0.001,
                cost_source="price table",
                attempt=1,
                run_id=None,
                source=None,
                prompt_hash="h",
                demo=int(rng.random() < 0.1),
            )
        )
        if len(batch) == 10_000:
            store.add_calls(batch)
            batch = []
    store.add_calls(batch)


def sorted_in_python(store: Store) -> float:
    """Seconds `stats()` took before: the aggregate as the planner chose, then every
    duration fetched and sorted in Python."""
    start = time.perf_counter()
    store.connect().execute(
        "SELECT provider, COUNT(*), SUM(status = 'ok'), SUM(input_tokens), SUM(cached_tokens), "
        "SUM(output_tokens), SUM(cost_usd), SUM(cost_usd IS NULL AND status = 'ok') FROM calls "
        "WHERE t >= 0 AND demo = 0 GROUP BY provider ORDER BY COUNT(*) DESC, provider"
    ).fetchall()
    durations: dict[str, list[float]] = {}
    for name, seconds in store.connect().execute(
        "SELECT provider, duration_s FROM calls WHERE t >= 0 AND demo = 0 "
        "AND duration_s IS NOT NULL ORDER BY provider, duration_s"
    ):
        durations.setdefault(name, []).append(seconds)
    for values in durations.values():
        history.percentile(values, 0.5), history.percentile(values, 0.95)
    return time.perf_counter() - start


def report(label: str, samples: list[float], errors: int) -> None:
    samples.sort()
    p50, p95 = statistics.median(samples) * 1000, samples[int(len(samples) * 0.95)] * 1000
    print(
        f"{label}: p50 {p50:.2f} ms  p95 {p95:.2f} ms  (target 5 ms: ratio "
        f"{p50 / 5:.2f} / {p95 / 5:.2f}; store errors {errors})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=500)
    parser.add_argument("--rows", type=int, default=400_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {"MULTI_MODEL_HOME": tmp}
        store = Store.of(env)
        fill(store, args.rows)
        recorder = History(store, Settings(), "a prompt")
        resp = Response(
            model="codex:gpt-5.4",
            provider="codex",
            status="ok",
            text="answer",
            duration_s=3.2,
            usage=Usage(input_tokens=1200, cached_input_tokens=300, output_tokens=250),
            metadata={"model_requested": "gpt-5.4"},
        )
        samples = []
        for _ in range(args.writes):
            start = time.perf_counter()
            recorder.record(resp)
            samples.append(time.perf_counter() - start)
        report("write per call (open store)", samples, store.errors)
        samples = []
        for _ in range(args.writes):  # what one dispatch pays: open, record, close
            start = time.perf_counter()
            fresh = Store.of(env)
            History(fresh, Settings(), "a prompt").record(resp)
            fresh.close()
            samples.append(time.perf_counter() - start)
        report("per dispatch (open + write + close)", samples, fresh.errors)
        start = time.perf_counter()
        rows = history.stats(store, 0.0)
        inproc = time.perf_counter() - start
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "multi_model", "history", "--stats"],
            env={**os.environ, "MULTI_MODEL_HOME": tmp, "PYTHONPATH": str(ROOT / "src")},
            capture_output=True,
            text=True,
            check=True,
        )
        whole = time.perf_counter() - start
        total = sum(r["calls"] for r in rows)
        print(
            f"mm history --stats over {total} rows: {whole:.3f} s as a command "
            f"(target 1 s: ratio {whole:.2f}), stats() alone {inproc:.3f} s; "
            f"{len(done.stdout.splitlines()) - 1} providers listed"
        )
        old = sorted_in_python(store)
        print(
            f"stats() before (durations sorted in Python): {old:.3f} s; in SQLite now "
            f"{inproc:.3f} s (ratio new/old {inproc / old:.2f})"
        )


if __name__ == "__main__":
    main()
