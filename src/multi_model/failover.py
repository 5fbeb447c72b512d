"""Retry and failover around one routed call, within the caller's time budget.

    retry     a transient failure (a rate limit resetting within `short_reset` seconds or
              with no reset given, unless it says a quota is spent; `server_error`,
              `network`) is tried again on the same
              provider after a backoff: the reset time when the CLI said it, else
              exponential (base_delay * 2^n, capped at max_delay) with jitter
    failover  `not_installed`, `auth_required`, `model_not_found`, a rate limit with a long
              reset, or one that outlasted the retries: the route's next provider
    cooling   a provider that reported a long reset is remembered in the state store until
              then; routing and failover skip it, with the reason, until it is over

Which providers are next, and with which model (a model id is never handed from one CLI to
another unless it is a vendor id the route's family rule covers):
    - `provider:model` or a name the config assigns: no failover (the user chose);
    - a bare model id routed by family (`gemini-3-pro`): the family rule's other providers,
      same id;
    - a bare provider name that a family rule covers (`gemini`): the rule's other providers,
      each with the first model of its catalog that belongs to the family; a provider that
      lists none is skipped.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable, Mapping

from multi_model import policy, providers
from multi_model.config import RetrySettings, Settings
from multi_model.models import Attempt, Response
from multi_model.routing import Route, covers, is_claude_model

TRANSIENT = frozenset({"network", "server_error"})
FAILOVER = frozenset({"not_installed", "auth_required", "model_not_found"})
QUOTA = re.compile(r"quota|billing|insufficient|usage limit|plan limit", re.IGNORECASE)
MIN_ATTEMPT_S = 1.0  # an attempt with less time than this left is not started

Once = Callable[[Route, float], Response]
"""(route, seconds left) -> one call's Response."""


def classify(resp: Response, rs: RetrySettings) -> str:
    """'done', 'retry' or 'failover' for one attempt's outcome."""
    if resp.ok:
        return "done"
    if resp.status == "rate_limited":
        if resp.retry_after_s is None and QUOTA.search(resp.error or ""):
            return "failover"  # a spent quota with no reset given: waiting will not help
        short = resp.retry_after_s is None or resp.retry_after_s <= rs.short_reset
        return "retry" if short else "failover"
    if resp.status in TRANSIENT:
        return "retry"
    return "failover" if resp.status in FAILOVER else "done"


def backoff(n: int, retry_after: float | None, rs: RetrySettings,
            rng: random.Random | None = None) -> float:
    """Seconds before retry n (0-based): the announced reset plus a little jitter, else
    exponential with equal jitter (half fixed, half random)."""
    rng = rng or random.Random()
    if retry_after is not None:
        return retry_after + rng.uniform(0, min(1.0, rs.base_delay))
    cap = min(rs.max_delay, rs.base_delay * (2 ** n))
    return cap / 2 + rng.uniform(0, cap / 2)


def alternatives(route: Route, settings: Settings, hooks: bool = False) -> list[Route]:
    """The routes to try after `route`, in the family rule's order."""
    if not route.family or not settings.retry.failover:
        return []
    out = []
    for name in route.candidates:
        name = providers.canonical(name)
        if name == route.provider or policy.allowed(name, settings.policy, hooks):
            continue
        if route.bare_provider:
            model = family_model(name, route.family, settings)
            if model is None:
                continue
        else:
            model = route.model
        out.append(Route(route.spec, name, model, f"failover from {route.provider}",
                         candidates=route.candidates, family=route.family,
                         bare_provider=route.bare_provider))
    return out


def family_model(name: str, family: str, settings: Settings) -> str | None:
    """The model of `family` that provider `name` would run: its configured default if that
    belongs to the family, else the first of its catalog that does. Never a Claude model:
    those run only when asked for by name, with an opt-in."""
    configured = settings.provider(name).model
    if configured and covers(family, configured) and not is_claude_model(configured):
        return configured
    try:
        catalog = providers.get(name, settings).catalog
    except Exception:  # noqa: BLE001 - an unknown name simply offers nothing
        return None
    return next((m for m in catalog if covers(family, m) and not is_claude_model(m)), None)


def run(route: Route, once: Once, settings: Settings, budget: float,
        cooling: Mapping[str, tuple[float, str]], cool: Callable[[str, float, str], None],
        cancel: threading.Event | None = None, rng: random.Random | None = None,
        hooks: bool = False) -> Response:
    """Call `route`, retrying and failing over within `budget` seconds. The Response is the
    last attempt's, with `attempts` when there was more than one."""
    rs = settings.retry
    deadline = time.monotonic() + budget
    cancel = cancel or threading.Event()
    queue = [route, *alternatives(route, settings, hooks)]
    attempts: list[Attempt] = []
    ran: list[tuple[int, Response]] = []  # (attempt number, Response), skips included
    last: Response | None = None
    for position, current in enumerate(queue):
        more = position < len(queue) - 1
        if current.provider in cooling:
            until, reason = cooling[current.provider]
            last = _cooling_response(current, until, reason)
            attempts.append(attempt_of(last, "failover" if more else "stop"))
            ran.append((len(attempts), last))
            continue
        resp, kind = _with_retries(current, once, rs, deadline, cancel, rng, attempts,
                                   budget if not attempts else None)
        last = resp
        ran.append((len(attempts) + 1, resp))
        if kind == "failover" and resp.status == "rate_limited" and resp.retry_after_s:
            cool(current.provider, time.time() + resp.retry_after_s,
                 (resp.error or "rate limited").splitlines()[0][:200])
        out_of_time = deadline - time.monotonic() < MIN_ATTEMPT_S or cancel.is_set()
        if kind == "failover" and more and not out_of_time:
            attempts.append(attempt_of(resp, "failover"))
            continue
        attempts.append(attempt_of(resp, "done" if kind != "failover" else "stop"))
        break
    assert last is not None
    if len(attempts) == 1:
        return last
    number, final = _final(ran, last, len(attempts))
    return final.model_copy(update={"attempts": attempts,
                                    "metadata": {**final.metadata, "attempt": number}})


def _final(ran: list[tuple[int, Response]], last: Response,
           count: int) -> tuple[int, Response]:
    """The Response to return: the last attempt's, unless that only found a failover target
    not installed after an earlier provider failed: "logged out" or "cooling until Monday"
    says more than "cursor-agent not installed"."""
    if last.ok or last.status != "not_installed":
        return count, last
    informative = [(n, r) for n, r in ran if r.status != "not_installed"]
    return informative[-1] if informative else ran[0]


def _with_retries(route: Route, once: Once, rs: RetrySettings, deadline: float,
                  cancel: threading.Event, rng: random.Random | None,
                  attempts: list[Attempt], first: float | None) -> tuple[Response, str]:
    """`first`: the whole budget, for the very first attempt (exactly what the caller set)."""
    retries = 0
    while True:
        left = first if first is not None and retries == 0 else max(
            deadline - time.monotonic(), MIN_ATTEMPT_S)
        resp = once(route, left)
        kind = classify(resp, rs)
        if kind != "retry":
            return resp, kind
        delay = backoff(retries, resp.retry_after_s, rs, rng)
        if retries >= rs.max_retries or time.monotonic() + delay + MIN_ATTEMPT_S > deadline:
            # retries spent, or no time for another: a rate limit moves on, the rest end here
            return resp, "failover" if resp.status == "rate_limited" else "done"
        attempts.append(attempt_of(resp, "retry"))
        if cancel.wait(delay):
            return resp, "done"
        retries += 1


def attempt_of(resp: Response, nxt: str) -> Attempt:
    return Attempt(provider=resp.provider, model=resp.model_requested, status=resp.status,
                   error=resp.error, duration_s=resp.duration_s,
                   retry_after_s=resp.retry_after_s, next=nxt)  # type: ignore[arg-type]



def _cooling_response(route: Route, until: float, reason: str) -> Response:
    left = max(0.0, until - time.time())
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(until))
    return Response(model=route.spec, provider=route.provider, status="rate_limited",
                    error=f"{route.provider} is cooling until {when} ({reason}); not asked",
                    retry_after_s=round(left, 1),
                    metadata={"route": route.reason, "model_requested": route.model,
                              "skipped": "cooling"})
