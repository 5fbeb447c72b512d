"""`mm history`: the calls in the state store, listed, as per-provider statistics, or as
costs. Aggregates and percentiles run in SQLite (a percentile is one OFFSET into the
`calls_latency` index); calls of the --demo panel count only when asked (`include_demo`)."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from multi_model.errors import UsageError
from multi_model.store import Store

LIST_COLUMNS = (
    "time",
    "provider",
    "model",
    "status",
    "duration_s",
    "input_tokens",
    "cached_tokens",
    "output_tokens",
    "cost_usd",
    "run_id",
    "source",
    "demo",
)
STATS_COLUMNS = (
    "provider",
    "calls",
    "ok",
    "success_rate",
    "p50_s",
    "p95_s",
    "input_tokens",
    "cached_tokens",
    "output_tokens",
    "cost_usd",
    "unpriced",
)
COSTS_COLUMNS = (
    "provider",
    "model",
    "calls",
    "input_tokens",
    "cached_tokens",
    "output_tokens",
    "cost_usd",
    "unpriced",
)
_SPAN = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(value: str | None, now: float | None = None) -> float:
    """'24h', '7d', '90m', '1w2d' (ago), or an ISO date/time; None: everything."""
    now = time.time() if now is None else now
    if not value:
        return 0.0
    text = value.strip().lower()
    parts = _SPAN.findall(text)
    if parts and _SPAN.sub("", text).strip() == "":
        return now - sum(float(n) * _UNIT[u] for n, u in parts)
    try:
        return datetime.fromisoformat(value).timestamp()
    except ValueError:
        raise UsageError(
            f"--since {value!r}: use a span like 24h, 7d, 90m, or an ISO date like 2026-11-01"
        ) from None


def rank(count: int, q: float) -> int:
    """The 1-based nearest rank of the q-quantile among `count` ascending values."""
    return min(count, max(1, int(-(-q * count // 1))))  # ceil(q * n)


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return None
    return sorted_values[rank(len(sorted_values), q) - 1]


def _where(since: float, provider: str | None, include_demo: bool = False) -> tuple[str, list[Any]]:
    clause = "t >= ?"
    params: list[Any] = [since]
    if provider:
        clause += " AND provider = ?"
        params.append(provider)
    if not include_demo:
        clause += " AND demo = 0"
    return clause, params


def _percentiles(
    conn: Any, name: str, count: int, since: float, include_demo: bool, qs: Sequence[float]
) -> list[float | None]:
    """Nearest-rank percentiles of one provider's `count` durations: one OFFSET per quantile,
    each an index-only walk of `calls_latency` (no sort, no rows in Python)."""
    demo = "" if include_demo else " AND demo = 0"
    where = f"provider = ? AND duration_s IS NOT NULL AND t >= ?{demo}"
    if not count:
        return [None for _ in qs]
    return [
        conn.execute(
            f"SELECT duration_s FROM calls INDEXED BY calls_latency WHERE {where} "
            "ORDER BY duration_s LIMIT 1 OFFSET ?",
            (name, since, rank(count, q) - 1),
        ).fetchone()[0]
        for q in qs
    ]


def stats(
    store: Store, since: float, provider: str | None = None, include_demo: bool = False
) -> list[dict[str, Any]]:
    where, params = _where(since, provider, include_demo)
    conn = store.connect()
    # every row in the window: one sequential scan beats an index walk with a lookup per row
    scan = "NOT INDEXED" if not (since or provider) else ""
    rows = conn.execute(
        f"SELECT provider, COUNT(*), SUM(status = 'ok'), SUM(input_tokens), "
        f"SUM(cached_tokens), SUM(output_tokens), SUM(cost_usd), "
        f"SUM(cost_usd IS NULL AND status = 'ok'), SUM(duration_s IS NOT NULL) "
        f"FROM calls {scan} WHERE {where} GROUP BY provider ORDER BY COUNT(*) DESC, provider",
        params,
    ).fetchall()
    out = []
    for name, calls, ok, tin, tcached, tout, cost, unpriced, timed in rows:
        p50, p95 = _percentiles(conn, name, timed, since, include_demo, (0.50, 0.95))
        out.append(
            {
                "provider": name,
                "calls": calls,
                "ok": ok or 0,
                "success_rate": round((ok or 0) / calls, 3) if calls else None,
                "p50_s": _round(p50),
                "p95_s": _round(p95),
                "input_tokens": tin or 0,
                "cached_tokens": tcached or 0,
                "output_tokens": tout or 0,
                "cost_usd": round(cost or 0.0, 4),
                "unpriced": unpriced or 0,
            }
        )
    return out


def costs(
    store: Store, since: float, provider: str | None = None, include_demo: bool = False
) -> list[dict[str, Any]]:
    where, params = _where(since, provider, include_demo)
    rows = (
        store.connect()
        .execute(
            f"SELECT provider, COALESCE(model_reported, model_requested, spec), COUNT(*), "
            f"SUM(input_tokens), SUM(cached_tokens), SUM(output_tokens), SUM(cost_usd), "
            f"SUM(cost_usd IS NULL AND status = 'ok') FROM calls WHERE {where} "
            f"GROUP BY 1, 2 ORDER BY SUM(cost_usd) DESC, 1, 2",
            params,
        )
        .fetchall()
    )
    return [
        {
            "provider": p,
            "model": m,
            "calls": n,
            "input_tokens": i or 0,
            "cached_tokens": c or 0,
            "output_tokens": o or 0,
            "cost_usd": round(cost or 0.0, 4),
            "unpriced": u or 0,
        }
        for p, m, n, i, c, o, cost, u in rows
    ]


def listing(store: Store, since: float, provider: str | None, limit: int) -> list[dict[str, Any]]:
    return [
        {
            "time": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r["t"])),
            "provider": r["provider"],
            "model": r["model_reported"] or r["model_requested"] or r["spec"],
            **{k: r[k] for k in LIST_COLUMNS[3:]},
        }
        for r in store.calls(since, provider, limit)
    ]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def render(rows: list[dict[str, Any]], columns: Sequence[str], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rows, indent=2) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buf.getvalue()
    if not rows:
        return "No calls recorded in that window.\n"
    table = [list(columns)] + [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(columns))]
    lines = (
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in table
    )
    return "".join(line + "\n" for line in lines)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value else "0"
    return str(value)
