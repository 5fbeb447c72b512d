"""Cost estimates: an editable price table (USD per million tokens) and the history rows of
one Response.

The defaults are list prices of the model families as published in 2026 and will drift:
`[prices."glob"]` in the config overrides or extends them (checked first, in file order). A
cost the CLI reports itself (`Usage.cost_usd`) wins over the table. Cached input tokens are
priced as cached (`cached_input`, default the input price); `Usage.input_tokens` includes
them (OpenAI's convention), so fresh input = input - cached. Local providers cost 0.
"""

from __future__ import annotations

import fnmatch
import time

from multi_model.config import PriceSettings, Settings
from multi_model.models import Response
from multi_model.store import CallRecord, current_context

DEFAULT_PRICES: dict[str, PriceSettings] = {
    glob: PriceSettings(input=i, cached_input=c, output=o)
    for glob, (i, c, o) in {
        "gpt-5*mini*": (0.25, 0.025, 2.0),
        "gpt-5*": (1.25, 0.125, 10.0),
        "o3*": (2.0, 0.5, 8.0),
        "o4-mini*": (1.1, 0.275, 4.4),
        "gemini-*flash*": (0.3, 0.03, 2.5),
        "gemini-*pro*": (2.0, 0.2, 12.0),
        "claude-opus*": (5.0, 0.5, 25.0),
        "claude-sonnet*": (3.0, 0.3, 15.0),
        "claude-haiku*": (1.0, 0.1, 5.0),
        "grok-code*": (0.2, 0.02, 1.5),
        "grok-4*": (3.0, 0.75, 15.0),
        "devstral*": (0.4, 0.04, 2.0),
    }.items()
}
FREE_PROVIDERS = frozenset({"ollama"})


def price_for(model: str | None, settings: Settings) -> tuple[str, PriceSettings] | None:
    if not model:
        return None
    name = model.lower().split("/")[-1]
    for glob, price in (*settings.prices.items(), *DEFAULT_PRICES.items()):
        if fnmatch.fnmatchcase(name, glob.lower()):
            return glob, price
    return None


def estimate(resp: Response, settings: Settings) -> tuple[float | None, str | None]:
    """(USD, where the figure comes from) for one Response; (None, None) when unknown."""
    usage = resp.usage
    if usage and usage.cost_usd is not None:
        return usage.cost_usd, "reported"
    if resp.provider in FREE_PROVIDERS:
        return 0.0, "local"
    if usage is None or (usage.input_tokens is None and usage.output_tokens is None):
        return None, None
    model = resp.model_reported or resp.model_requested or resp.model
    found = price_for(model, settings)
    if found is None:
        return None, None
    glob, price = found
    cached = usage.cached_input_tokens or 0
    fresh = max(0, (usage.input_tokens or 0) - cached)
    cached_price = price.input if price.cached_input is None else price.cached_input
    cost = (
        fresh * price.input + cached * cached_price + (usage.output_tokens or 0) * price.output
    ) / 1_000_000
    return round(cost, 6), f"price table {glob}"


def call_records(
    resp: Response, settings: Settings, prompt_hash: str, prompt: str | None
) -> list[CallRecord]:
    """One row per attempt (the one the Response is carries usage and cost), or one row."""
    ctx = current_context()
    now = time.time()
    rows = []
    final = resp.metadata.get("attempt")
    final = final if isinstance(final, int) else len(resp.attempts)
    for n, a in enumerate(resp.attempts, 1):
        if n == final:
            rows.append(_full_row(resp, settings, prompt_hash, prompt, n, now, ctx))
            continue
        rows.append(
            CallRecord(
                t=now,
                spec=resp.model,
                provider=a.provider,
                model_requested=a.model,
                model_reported=None,
                status=a.status,
                error=a.error,
                duration_s=a.duration_s,
                input_tokens=None,
                cached_tokens=None,
                output_tokens=None,
                cost_usd=None,
                cost_source=None,
                attempt=n,
                run_id=ctx.get("run_id"),
                source=ctx.get("source"),
                prompt_hash=prompt_hash,
                demo=int(ctx.get("demo") == "1"),
            )
        )
    return rows or [_full_row(resp, settings, prompt_hash, prompt, 1, now, ctx)]


def _full_row(
    resp: Response,
    settings: Settings,
    prompt_hash: str,
    prompt: str | None,
    attempt: int,
    now: float,
    ctx: dict[str, str],
) -> CallRecord:
    cost, source = estimate(resp, settings)
    usage = resp.usage
    return CallRecord(
        t=now,
        spec=resp.model,
        provider=resp.provider,
        model_requested=resp.model_requested,
        model_reported=resp.model_reported,
        status=resp.status,
        error=resp.error,
        duration_s=resp.duration_s,
        input_tokens=usage.input_tokens if usage else None,
        cached_tokens=usage.cached_input_tokens if usage else None,
        output_tokens=usage.output_tokens if usage else None,
        cost_usd=cost,
        cost_source=source,
        attempt=attempt,
        run_id=ctx.get("run_id"),
        source=ctx.get("source"),
        prompt_hash=prompt_hash,
        prompt=prompt,
        answer=resp.text if prompt is not None else None,
        demo=int(ctx.get("demo") == "1"),
    )
