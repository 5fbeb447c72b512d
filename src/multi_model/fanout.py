"""Parallel fan-out: one prompt, several models, one Response each, in the input order.

Routing happens first, for every spec, so a refused or unknown spec raises before any
process starts. Each call then runs in its own thread (the work is waiting on a child
process or a socket); a call never raises: whatever goes wrong becomes its status.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace

from multi_model import failover, policy, providers, runner, tasks
from multi_model.config import Settings, load_settings, provider_env
from multi_model.detect import availability, cached_version, find_executable
from multi_model.models import Attempt, Parsed, Request, Response, RunOutput, Status
from multi_model.prices import call_records
from multi_model.providers.base import CliProvider, HttpProvider, InProcessProvider, stderr_tail
from multi_model.routing import Route, route
from multi_model.store import Store, prompt_hash

OnResult = Callable[[int, Response], None]


def dispatch(
    models: Sequence[str],
    prompt: str,
    *,
    timeout: float | None = None,
    allow_cursor_claude: bool = False,
    allow_claude_cli: bool = False,
    cwd: str | None = None,
    settings: Settings | None = None,
    env: Mapping[str, str] | None = None,
    on_result: OnResult | None = None,
    for_hooks: bool = False,
    local_only: bool = False,
    session: str | None = None,
) -> list[Response]:
    """Ask every model in parallel; returns one Response per model, in the order given.
    A spec may be a chain, `primary|fallback|...`: the next is asked when one fails, within
    the same timeout (task tables use this).

    Raises ClaudeModelRefused / UnknownProvider (nothing started) for specs that cannot be
    routed, PolicyViolation for calls `[policy]` forbids (`for_hooks`: the code comes from
    the edit-review hooks, so `policy.hook_providers` applies), or for a route that leaves
    the machine with `local_only`; every other failure is a status on its Response.
    `session` names a conversation each model continues (sessions.py); UsageError when a
    spec cannot keep one."""
    env = dict(os.environ if env is None else env)
    settings = settings or load_settings(cwd, env).settings
    store = Store.of(os.environ)  # our own state: not the providers' environment `env`
    cooling = store.safely(store.cooling) or {}
    chains = [route_all(chain_of(spec), settings, env, cooling=cooling,
                        allow_cursor_claude=allow_cursor_claude,
                        allow_claude_cli=allow_claude_cli) for spec in models]
    if not chains:
        return []
    turns = None
    if session is not None:
        from multi_model import sessions

        chains, turns = sessions.plan(session, models, chains, settings, store, cwd)
    flat = [r for chain in chains for r in chain]
    policy.check(flat, settings, timeout, store, hooks=for_hooks)
    if local_only:
        tasks.check_private(flat, settings, env)
    cancel = threading.Event()
    results: dict[int, Response] = {}
    history = History(store, settings, prompt)
    with ThreadPoolExecutor(max_workers=len(chains)) as pool:
        futures = {pool.submit(call_chain, spec, chain, prompt, settings, env, timeout,
                               turns[i].cwd if turns else cwd, cancel, cooling, store,
                               for_hooks): i
                   for i, (spec, chain) in enumerate(zip(models, chains))}
        try:
            for future in as_completed(futures):
                index = futures[future]
                results[index] = future.result()
                if turns:
                    results[index] = turns[index].finish(results[index])
                history.record(results[index])
                if on_result:
                    on_result(index, results[index])
        except BaseException:  # Ctrl-C, SIGTERM, a failing callback: stop every child now
            cancel.set()
            raise
    return [results[i] for i in range(len(chains))]


def chain_of(spec: str) -> list[str]:
    """`a|b|c` -> [a, b, c]; a plain spec -> [spec]."""
    return [part.strip() for part in spec.split("|") if part.strip()] or [spec]


def call_chain(spec: str, chain: Sequence[Route], prompt: str, settings: Settings,
               env: Mapping[str, str], timeout: float | None, cwd: str | None,
               cancel: threading.Event, cooling: Mapping[str, tuple[float, str]],
               store: Store, for_hooks: bool) -> Response:
    """The chain's specs in order until one answers, sharing one time budget. The Response
    is the last one asked, named `spec`, with every attempt of the chain."""
    if len(chain) == 1:
        return call_routed(chain[0], prompt, settings, env, timeout, cwd, cancel, cooling,
                           store, for_hooks)
    budget = timeout or _limit(chain[0].provider, settings)
    deadline = time.monotonic() + budget
    attempts: list[Attempt] = []
    resp: Response | None = None
    number = 0
    for position, r in enumerate(chain):
        left = budget if position == 0 else deadline - time.monotonic()
        if resp is not None and (left < failover.MIN_ATTEMPT_S or cancel.is_set()):
            attempts[-1] = attempts[-1].model_copy(update={"next": "stop"})
            break
        resp = call_routed(r, prompt, settings, env, left, cwd, cancel, cooling, store,
                           for_hooks)
        own = resp.attempts or [failover.attempt_of(resp, "done")]
        mine = resp.metadata.get("attempt")
        number = len(attempts) + (mine if isinstance(mine, int) else len(own))
        last = position == len(chain) - 1
        if not resp.ok and not last:
            own = [*own[:-1], own[-1].model_copy(update={"next": "failover"})]
        attempts += own
        if resp.ok:
            break
    assert resp is not None
    return resp.model_copy(update={
        "model": spec, "attempts": attempts if len(attempts) > 1 else [],
        "metadata": {**resp.metadata, "attempt": number}})


def route_all(models: Sequence[str], settings: Settings, env: Mapping[str, str], *,
              allow_cursor_claude: bool = False, allow_claude_cli: bool = False,
              cooling: Mapping[str, tuple[float, str]] | None = None) -> list[Route]:
    """Route every spec; raises ClaudeModelRefused / UnknownProvider on the first bad one."""
    available = availability(settings, env)
    return [route(spec, settings, available, allow_claude_cli, allow_cursor_claude, cooling)
            for spec in models]


def call_routed(r: Route, prompt: str, settings: Settings, env: Mapping[str, str],
                timeout: float | None = None, cwd: str | None = None,
                cancel: threading.Event | None = None,
                cooling: Mapping[str, tuple[float, str]] | None = None,
                store: Store | None = None, for_hooks: bool = False) -> Response:
    """`call`, with retries and failover (failover.py) within the caller's timeout. Never
    raises."""
    store = store or Store.of(os.environ)
    budget = timeout or _limit(r.provider, settings)

    def once(current: Route, left: float) -> Response:
        limit = left if timeout else min(left, _limit(current.provider, settings))
        return call(current, prompt, settings, env, limit, cwd, cancel)

    def cool(provider: str, until: float, reason: str) -> None:
        store.safely(store.cool, provider, until, reason)

    return failover.run(r, once, settings, budget, cooling or {}, cool, cancel,
                        hooks=for_hooks)


def _limit(provider: str, settings: Settings) -> float:
    return (settings.provider(provider).timeout or _endpoint_timeout(provider, settings)
            or settings.timeout)


class History:
    """Each Response of a dispatch (each attempt, when there were several) as rows of the
    state store's `calls` table; a store that cannot be written costs nothing."""

    def __init__(self, store: Store, settings: Settings, prompt: str) -> None:
        self.store, self.settings, self.prompt = store, settings, prompt
        self.hash = prompt_hash(prompt)

    def record(self, resp: Response) -> None:
        if not self.settings.history.enabled:
            return
        self.store.safely(self.store.add_calls, call_records(
            resp, self.settings, self.hash, self.prompt if self.settings.history.keep_text
            else None))


def call(r: Route, prompt: str, settings: Settings, env: Mapping[str, str],
         timeout: float | None = None, cwd: str | None = None,
         cancel: threading.Event | None = None) -> Response:
    """One routed call. Never raises."""
    base = Response(model=r.spec, provider=r.provider, status="ok",
                    metadata={"route": r.reason, "model_requested": r.model})
    try:
        prov = providers.get(r.provider, settings)
        ps = settings.provider(prov.name)
        limit = timeout or ps.timeout or _endpoint_timeout(r.provider, settings) or settings.timeout
        req = Request(prompt=prompt, model=r.model, cwd=cwd, timeout=limit,
                      extra_args=tuple(ps.args), allow_writes=ps.allow_writes, resume=r.resume)
        if not prov.read_only and not ps.allow_writes:
            return base.model_copy(update={"status": "refused", "error": (
                f"{prov.name} has no read-only headless mode; set "
                f"[providers.{prov.name}] allow_writes = true to use it anyway")})
        if isinstance(prov, InProcessProvider):
            return _call_inproc(prov, req, base)
        if isinstance(prov, HttpProvider):
            return _call_http(prov, req, provider_env(settings, env), settings, base)
        return _call_cli(prov, req, env, settings, base, cancel)
    except Exception as exc:  # noqa: BLE001 - a bug in one adapter must not sink the others
        return base.model_copy(update={
            "status": "crashed", "error": f"internal error: {exc!r}",
            "metadata": {**base.metadata, "traceback": traceback.format_exc(limit=5)}})


def _endpoint_timeout(name: str, settings: Settings) -> float | None:
    endpoint = settings.endpoints.get(name)
    return endpoint.timeout if endpoint else None


def _call_cli(prov: CliProvider, req: Request, env: Mapping[str, str], settings: Settings,
              base: Response, cancel: threading.Event | None = None) -> Response:
    exe = find_executable(prov, settings, env)
    if exe is None:
        hint = f"; to install: {prov.install_hint}" if prov.install_hint else ""
        return base.model_copy(update={"status": "not_installed",
                                       "error": f"{prov.name} CLI not found on PATH{hint}"})
    with ThreadPoolExecutor(max_workers=1) as side:
        version = side.submit(cached_version, prov, exe, env, settings.probe_timeout)
        child_env = prov.env_for(env, tuple(settings.provider(prov.name).env))
        out = runner.run(prov.build(req, child_env, exe), req.timeout,
                         output_cap=int(settings.output_cap_mb * runner.MiB), cancel=cancel)
        parsed = finish(out, prov.parse(out) if not out.spawn_error else Parsed(), req.timeout,
                        prov)
        return _response(base, parsed, out, cli_used=exe, cli_version=version.result())


def _call_http(prov: HttpProvider, req: Request, env: Mapping[str, str], settings: Settings,
               base: Response) -> Response:
    early = prov.preflight(req, env)
    if early is not None:
        return base.model_copy(update={**_parsed_fields(early), "cli_used": prov.base_url(env)})
    call = prov.build_http(req, env)
    reply = runner.fetch(call, req.timeout, output_cap=int(settings.output_cap_mb * runner.MiB))
    parsed = prov.parse_http(reply)
    if reply.timed_out:
        parsed = replace(parsed, status="timeout", error=f"no answer within {req.timeout:g}s")
    elif reply.truncated:
        parsed = replace(parsed, status="oversize", error="reply exceeded the output cap")
    elif parsed.status == "ok" and not parsed.text.strip():
        parsed = replace(parsed, status="empty_output", error="the server returned no text")
    return base.model_copy(update={
        **_parsed_fields(parsed), "cli_used": call.url, "exit_code": reply.status or None,
        "duration_s": reply.duration_s, "truncated": reply.truncated})


def _call_inproc(prov: InProcessProvider, req: Request, base: Response) -> Response:
    start = time.monotonic()
    parsed = prov.answer(req)
    if parsed.status == "ok" and not parsed.text.strip():
        parsed = replace(parsed, status="empty_output", error="no answer text")
    return base.model_copy(update={**_parsed_fields(parsed), "cli_used": "in-process",
                                   "duration_s": round(time.monotonic() - start, 3)})


def finish(out: RunOutput, parsed: Parsed, timeout: float,
           prov: CliProvider | None = None) -> Parsed:
    """Apply what the runner saw over the adapter's reading: spawn failure, timeout, cap,
    a crash after a partial answer, and 'exit 0 with nothing' (exit code 0 alone never
    means success, and an answer followed by a non-zero exit is not one either)."""
    if out.spawn_error:
        status: Status = ("not_installed" if "not found" in out.spawn_error
                          else "oversize" if "Argument list too long" in out.spawn_error
                          else "refused" if runner.NUL_IN_ARGV in out.spawn_error
                          else "crashed")
        return Parsed(status=status, error=out.spawn_error)
    if out.cancelled:
        return replace(parsed, status="crashed", error="cancelled: the dispatch was interrupted")
    if out.timed_out:
        return replace(parsed, status="timeout",
                       error=f"no answer within {timeout:g}s; process group stopped")
    if out.truncated:
        return replace(parsed, status="oversize", error="output exceeded the cap and was cut")
    if parsed.status == "ok" and out.exit_code not in (0, None):
        cause = (prov or CliProvider()).exit_failure(out)
        return replace(parsed, status=cause.status, retry_after_s=cause.retry_after_s,
                       error=f"exited {out.exit_code} after a partial answer: {cause.error}")
    if parsed.status == "ok" and not parsed.text.strip():
        return replace(parsed, status="empty_output",
                       error=parsed.error or "exit 0 but no answer text")
    return _with_login_hint(parsed, prov)


def _with_login_hint(parsed: Parsed, prov: CliProvider | None) -> Parsed:
    """auth_required always says how to log in to this CLI."""
    hint = prov.login_hint if prov else ""
    if parsed.status != "auth_required" or not hint or hint in (parsed.error or ""):
        return parsed
    return replace(parsed, error=f"{parsed.error or 'not logged in'} (log in: {hint})")


def _parsed_fields(parsed: Parsed) -> dict[str, object]:
    return {"status": parsed.status, "text": parsed.text, "error": parsed.error,
            "usage": parsed.usage, "session_id": parsed.session_id,
            "model_reported": parsed.model_reported, "retry_after_s": parsed.retry_after_s}


def _response(base: Response, parsed: Parsed, out: RunOutput, *, cli_used: str,
              cli_version: str | None) -> Response:
    metadata = dict(base.metadata)
    if parsed.status != "ok" and out.stderr.strip():
        metadata["stderr_tail"] = stderr_tail(out.stderr, 10)
    return base.model_copy(update={
        **_parsed_fields(parsed), "cli_used": cli_used, "cli_version": cli_version,
        "exit_code": out.exit_code, "duration_s": round(out.duration_s, 3),
        "truncated": out.truncated, "metadata": metadata})
