"""Parallel fan-out: one prompt, several models, one Response each, in the input order.

Routing happens first, for every spec, so a refused or unknown spec raises before any
process starts. Each call then runs in its own thread (the work is waiting on a child
process or a socket) through the one failover loop (failover.py); a single call is
calling.py's, and never raises: whatever goes wrong becomes its status.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from typing import TypedDict

from typing_extensions import Unpack

from multi_model import failover, policy, sessions, tasks
from multi_model.calling import call, time_limit
from multi_model.config import Settings, load_settings
from multi_model.models import Response
from multi_model.prices import call_records
from multi_model.routing import Route, chain_of, route_all
from multi_model.store import Store, prompt_hash

__all__ = ["DispatchOptions", "History", "OnResult", "call_chain", "dispatch"]

OnResult = Callable[[int, Response], None]


@dataclass(frozen=True)
class DispatchOptions:
    """How `dispatch` runs; every field is also a keyword argument of `dispatch`."""

    timeout: float | None = None
    allow_cursor_claude: bool = False
    allow_claude_cli: bool = False
    cwd: str | None = None
    settings: Settings | None = None
    env: Mapping[str, str] | None = None
    on_result: OnResult | None = None
    for_hooks: bool = False
    """The call comes from the edit-review hooks: `policy.hook_providers` applies."""
    local_only: bool = False
    """PolicyViolation for a route that leaves the machine."""
    session: str | None = None
    """A conversation each model continues (sessions.py)."""
    clock: failover.Clock = failover.REAL_CLOCK
    """Backoff and deadlines; tests pass a fake one."""
    distinct: bool = False
    """Failover never lands on a provider another model of this dispatch runs on (a
    council's seats stay on distinct providers)."""


class DispatchKwargs(TypedDict, total=False):
    timeout: float | None
    allow_cursor_claude: bool
    allow_claude_cli: bool
    cwd: str | None
    settings: Settings | None
    env: Mapping[str, str] | None
    on_result: OnResult | None
    for_hooks: bool
    local_only: bool
    session: str | None
    clock: failover.Clock
    distinct: bool


def dispatch(
    models: Sequence[str],
    prompt: str,
    options: DispatchOptions | None = None,
    **kwargs: Unpack[DispatchKwargs],
) -> list[Response]:
    """Ask every model in parallel; returns one Response per model, in the order given.
    `options` (or the same fields as keywords, which win) says how.
    A spec may be a chain, `primary|fallback|...`: the next is asked when one fails, within
    the same timeout (task tables use this).

    Raises ClaudeModelRefused / UnknownProvider (nothing started) for specs that cannot be
    routed, PolicyViolation for calls `[policy]` forbids, or for a route that leaves the
    machine with `local_only`; every other failure is a status on its Response.
    UsageError when a spec cannot keep the `session`."""
    opts = replace(options or DispatchOptions(), **kwargs)
    env = dict(os.environ if opts.env is None else opts.env)
    settings = opts.settings or load_settings(opts.cwd, env).settings
    store = Store.of(os.environ)  # our own state: not the providers' environment `env`
    cooling = store.safely(store.cooling) or {}
    chains = [
        route_all(
            chain_of(spec),
            settings,
            env,
            cooling=cooling,
            allow_cursor_claude=opts.allow_cursor_claude,
            allow_claude_cli=opts.allow_claude_cli,
        )
        for spec in models
    ]
    if not chains:
        return []
    turns = None
    if opts.session is not None:
        chains, turns = sessions.plan(opts.session, models, chains, settings, store, opts.cwd)
    flat = [r for chain in chains for r in chain]
    policy.check(flat, settings, opts.timeout, store, hooks=opts.for_hooks)
    if opts.local_only:
        tasks.check_private(flat, settings, env)
    ctx = _Context(
        prompt,
        settings,
        env,
        opts.timeout,
        threading.Event(),
        cooling,
        store,
        opts.for_hooks,
        opts.clock,
        failover.Claims([[r.provider for r in c] for c in chains]) if opts.distinct else None,
    )
    results: dict[int, Response] = {}
    history = History(store, settings, prompt)
    with ThreadPoolExecutor(max_workers=len(chains)) as pool:
        futures = {
            pool.submit(call_chain, spec, chain, turns[i].cwd if turns else opts.cwd, ctx, i): i
            for i, (spec, chain) in enumerate(zip(models, chains, strict=True))
        }
        try:
            for future in as_completed(futures):
                index = futures[future]
                results[index] = future.result()
                if turns:
                    results[index] = turns[index].finish(results[index])
                history.record(results[index])
                if opts.on_result:
                    opts.on_result(index, results[index])
        except BaseException:  # Ctrl-C, SIGTERM, a failing callback: stop every child now
            ctx.cancel.set()
            raise
    return [results[i] for i in range(len(chains))]


@dataclass(frozen=True)
class _Context:
    """What every call of one dispatch shares."""

    prompt: str
    settings: Settings
    env: Mapping[str, str]
    timeout: float | None
    cancel: threading.Event
    cooling: Mapping[str, tuple[float, str]]
    store: Store
    hooks: bool
    clock: failover.Clock
    claims: failover.Claims | None = None


def call_chain(
    spec: str, chain: Sequence[Route], cwd: str | None, ctx: _Context, seat: int = 0
) -> Response:
    """`call` for each route of the chain, with retries and failover (failover.py), in one
    time budget: the caller's timeout, else the first provider's. Never raises."""
    budget = ctx.timeout or time_limit(chain[0].provider, ctx.settings)
    fixed = bool(ctx.timeout) or len(chain) > 1  # else each provider keeps its own limit

    def once(current: Route, left: float) -> Response:
        limit = left if fixed else min(left, time_limit(current.provider, ctx.settings))
        return call(current, ctx.prompt, ctx.settings, ctx.env, limit, cwd, ctx.cancel)

    def cool(provider: str, until: float, reason: str) -> None:
        ctx.store.safely(ctx.store.cool, provider, until, reason)

    return failover.run(
        chain,
        once,
        ctx.settings,
        budget,
        ctx.cooling,
        cool,
        ctx.cancel,
        hooks=ctx.hooks,
        clock=ctx.clock,
        spec=spec,
        claims=None if ctx.claims is None else (ctx.claims, seat),
    )


class History:
    """Each Response of a dispatch (each attempt, when there were several) as rows of the
    state store's `calls` table; a store that cannot be written costs nothing."""

    def __init__(self, store: Store, settings: Settings, prompt: str) -> None:
        self.store, self.settings, self.prompt = store, settings, prompt
        self.hash = prompt_hash(prompt)

    def record(self, resp: Response) -> None:
        if not self.settings.history.enabled:
            return
        self.store.safely(
            self.store.add_calls,
            call_records(
                resp,
                self.settings,
                self.hash,
                self.prompt if self.settings.history.keep_text else None,
            ),
        )
