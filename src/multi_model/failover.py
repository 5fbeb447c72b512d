"""Retry and failover around one routed call (or a chain `a|b`), within the caller's time
budget. The one loop that keeps attempts, backoff and cool-downs; time comes from a `Clock`.

    retry     a transient failure (a rate limit resetting within `short_reset` seconds or
              with no reset given, unless it says a quota is spent; `server_error`,
              `network`) is tried again on the same
              provider after a backoff: the reset time when the CLI said it, else
              exponential (base_delay * 2^n, capped at max_delay) with jitter
    failover  `not_installed`, `auth_required`, `model_not_found`, a rate limit with a long
              reset, or one that outlasted the retries: the route's next provider
    cooling   a provider that reported a long reset is remembered in the state store until
              then; routing and failover skip it, with the reason, until it is over
    chain     a failed link of `a|b|c` (any failure, after its own retries and failover)
              hands over to the next, in the same budget

Which providers are next, and with which model (a model id is never handed from one CLI to
another unless it is a vendor id the route's family rule covers):
    - `provider:model` or a name the config assigns: no failover (the user chose);
    - a bare model id routed by family (`gemini-3-pro`): the family rule's other providers,
      same id;
    - a bare provider name (`gemini`) is a provider the user named: no failover either;
    - with `Claims` (a council's seats), a provider another seat runs on, or already failed
      over to, is skipped: two seats never collapse onto one provider.

A failed run reports the most actionable of its failures (`ACTIONABLE`): "logged out" or
"quota spent" tells the user what to do; "cursor-agent timed out" on a failover does not.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Literal, Protocol

from multi_model import policy, providers
from multi_model.config import RetrySettings, Settings
from multi_model.models import Attempt, Response
from multi_model.routing import Route

TRANSIENT = frozenset({"network", "server_error"})
FAILOVER = frozenset({"not_installed", "auth_required", "model_not_found"})
QUOTA = re.compile(r"quota|billing|insufficient|usage limit|plan limit", re.IGNORECASE)
Next = Literal["done", "retry", "failover", "stop"]
"""What followed an attempt (`Attempt.next`)."""
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


def backoff(
    n: int, retry_after: float | None, rs: RetrySettings, rng: random.Random | None = None
) -> float:
    """Seconds before retry n (0-based): the announced reset plus a little jitter, else
    exponential with equal jitter (half fixed, half random)."""
    rng = rng or random.Random()
    if retry_after is not None:
        return retry_after + rng.uniform(0, min(1.0, rs.base_delay))
    cap = min(rs.max_delay, rs.base_delay * 2.0**n)
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
        out.append(
            Route(
                route.spec,
                name,
                route.model,
                f"failover from {route.provider}",
                candidates=route.candidates,
                family=route.family,
            )
        )
    return out


class Claims:
    """Which seat holds which provider, across the threads of one dispatch: a failover never
    lands on a provider another seat runs on or has already failed over to."""

    def __init__(self, primaries: Sequence[Sequence[str]]) -> None:
        self._lock = threading.Lock()
        self._holder: dict[str, int] = {}
        for seat, names in enumerate(primaries):
            for name in names:
                self._holder.setdefault(name, seat)

    def take(self, seat: int, provider: str) -> bool:
        """True when `seat` may fail over to `provider` (it now holds it)."""
        with self._lock:
            return self._holder.setdefault(provider, seat) == seat


Cool = Callable[[str, float, str], None]
"""(provider, wall-clock time it may be asked again, reason) -> remember the cooling."""


class Clock(Protocol):
    """Time as the loop sees it; tests pass a fake one so that backoff costs no real time."""

    def monotonic(self) -> float: ...
    def time(self) -> float: ...
    def wait(self, cancel: threading.Event, seconds: float) -> bool:
        """Sleep `seconds` unless `cancel` is set first; True when it was."""
        ...


class RealClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    def wait(self, cancel: threading.Event, seconds: float) -> bool:
        return cancel.wait(seconds)


REAL_CLOCK: Clock = RealClock()


def run(
    chain: Sequence[Route],
    once: Once,
    settings: Settings,
    budget: float,
    cooling: Mapping[str, tuple[float, str]],
    cool: Cool,
    cancel: threading.Event | None = None,
    rng: random.Random | None = None,
    hooks: bool = False,
    clock: Clock = REAL_CLOCK,
    spec: str | None = None,
    claims: tuple[Claims, int] | None = None,
) -> Response:
    """Call the chain's routes in order until one answers (`a|b` specs; usually one route),
    each with its retries and family failover, all within `budget` seconds. Never raises
    unless `once` does. The Response is the answering one, else the most actionable failure,
    with `attempts` when there was more than one; a chain's is named `spec`. `claims`: the
    dispatch's claims and this seat's index (a council's seats stay on distinct providers)."""
    loop = _Loop(
        once, settings, budget, cooling, cool, cancel or threading.Event(), rng, hooks, clock
    )
    loop.claims = claims
    number, final = 0, None
    finals: list[tuple[int, Response]] = []
    for position, route in enumerate(chain):
        if final is not None and loop.out_of_time():
            loop.relabel("stop")
            break
        start = len(loop.attempts)
        number, final = loop.group(route)
        finals.append((number, final))
        if len(chain) > 1 and len(loop.attempts) - start == 1:
            loop.relabel("done")  # a chain link asked once reads "done", as a lone call would
        if final.ok:
            break
        if position < len(chain) - 1:
            loop.relabel("failover")
    assert final is not None
    if not final.ok:
        number, final = most_actionable(finals)
    attempts = loop.attempts
    if len(chain) == 1 and len(attempts) == 1:
        return final
    update: dict[str, object] = {
        "attempts": attempts if len(attempts) > 1 else [],
        "metadata": {**final.metadata, "attempt": number},
    }
    if len(chain) > 1:
        update["model"] = spec or final.model
    return final.model_copy(update=update)


class _Loop:
    """The state of one `run`: its deadline and every attempt so far, in order."""

    def __init__(
        self,
        once: Once,
        settings: Settings,
        budget: float,
        cooling: Mapping[str, tuple[float, str]],
        cool: Cool,
        cancel: threading.Event,
        rng: random.Random | None,
        hooks: bool,
        clock: Clock,
    ) -> None:
        self.once, self.settings, self.budget = once, settings, budget
        self.cooling, self.cool, self.cancel = cooling, cool, cancel
        self.rng, self.hooks, self.clock = rng, hooks, clock
        self.deadline = clock.monotonic() + budget
        self.attempts: list[Attempt] = []
        self.claims: tuple[Claims, int] | None = None

    def out_of_time(self) -> bool:
        return self.deadline - self.clock.monotonic() < MIN_ATTEMPT_S or self.cancel.is_set()

    def relabel(self, nxt: Next) -> None:
        self.attempts[-1] = self.attempts[-1].model_copy(update={"next": nxt})

    def group(self, route: Route) -> tuple[int, Response]:
        """`route`, then its family's other providers while they fail over; returns the
        Response to report and its attempt number (1-based, over the whole run)."""
        start = len(self.attempts)
        queue = [route, *self._unclaimed(alternatives(route, self.settings, self.hooks))]
        ran: list[tuple[int, Response]] = []  # (attempt number in this group, Response)
        last: Response | None = None
        for position, current in enumerate(queue):
            more = position < len(queue) - 1
            if current.provider in self.cooling:
                until, reason = self.cooling[current.provider]
                last = _cooling_response(current, until, reason, self.clock)
                self.attempts.append(attempt_of(last, "failover" if more else "stop"))
                ran.append((len(self.attempts) - start, last))
                continue
            resp, kind = self._with_retries(current)
            last = resp
            ran.append((len(self.attempts) - start + 1, resp))
            if kind == "failover" and resp.status == "rate_limited" and resp.retry_after_s:
                self.cool(
                    current.provider,
                    self.clock.time() + resp.retry_after_s,
                    (resp.error or "rate limited").splitlines()[0][:200],
                )
            if kind == "failover" and more and not self.out_of_time():
                self.attempts.append(attempt_of(resp, "failover"))
                continue
            self.attempts.append(attempt_of(resp, "done" if kind != "failover" else "stop"))
            break
        assert last is not None
        count = len(self.attempts) - start
        number, final = _final(ran, last, count) if count > 1 else (1, last)
        return start + number, final

    def _unclaimed(self, routes: list[Route]) -> list[Route]:
        if self.claims is None:
            return routes
        claims, seat = self.claims
        return [r for r in routes if claims.take(seat, r.provider)]

    def _with_retries(self, route: Route) -> tuple[Response, str]:
        """Retries of one provider; the very first attempt of the run gets the whole budget
        (exactly what the caller set)."""
        rs, retries = self.settings.retry, 0
        first = not self.attempts
        while True:
            left = (
                self.budget
                if first and retries == 0
                else max(self.deadline - self.clock.monotonic(), MIN_ATTEMPT_S)
            )
            resp = self.once(route, left)
            kind = classify(resp, rs)
            if kind != "retry":
                return resp, kind
            delay = backoff(retries, resp.retry_after_s, rs, self.rng)
            if (
                retries >= rs.max_retries
                or self.clock.monotonic() + delay + MIN_ATTEMPT_S > self.deadline
            ):
                # retries spent, or no time for another: a rate limit moves on, the rest end here
                return resp, "failover" if resp.status == "rate_limited" else "done"
            self.attempts.append(attempt_of(resp, "retry"))
            if self.clock.wait(self.cancel, delay):
                return resp, "done"
            retries += 1


ACTIONABLE: tuple[str, ...] = (
    "auth_required",
    "rate_limited",
    "refused",
    "model_not_found",
    "not_installed",
    "oversize",
    "timeout",
)
"""Failures in the order a user can act on them: log in, wait for the quota (or use another
plan), change the policy, fix the model name, install the CLI; then the rest."""


def actionability(resp: Response) -> int:
    """Lower is more actionable; a spent quota before a passing rate limit."""
    if resp.status not in ACTIONABLE:
        return 2 * len(ACTIONABLE)
    rank = 2 * ACTIONABLE.index(resp.status)
    quota = resp.status == "rate_limited" and (
        QUOTA.search(resp.error or "") or (resp.retry_after_s or 0) > 3600
    )
    return rank - 1 if quota else rank


def most_actionable(ran: Sequence[tuple[int, Response]]) -> tuple[int, Response]:
    """The failure to report: the most actionable, the earliest of equals (the provider the
    route chose first); its error notes what else was tried."""
    number, best = min(ran, key=lambda item: (actionability(item[1]), item[0]))
    others = [f"{r.provider}: {r.status}" for n, r in ran if n != number]
    if not others:
        return number, best
    note = f" (also tried {', '.join(others)})"
    return number, best.model_copy(update={"error": (best.error or best.status) + note})


def _final(ran: list[tuple[int, Response]], last: Response, count: int) -> tuple[int, Response]:
    return (count, last) if last.ok else most_actionable(ran)


def attempt_of(resp: Response, nxt: Next) -> Attempt:
    return Attempt(
        provider=resp.provider,
        model=resp.model_requested,
        status=resp.status,
        error=resp.error,
        duration_s=resp.duration_s,
        retry_after_s=resp.retry_after_s,
        next=nxt,
    )


def _cooling_response(route: Route, until: float, reason: str, clock: Clock) -> Response:
    left = max(0.0, until - clock.time())
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(until))
    return Response(
        model=route.spec,
        provider=route.provider,
        status="rate_limited",
        error=f"{route.provider} is cooling until {when} ({reason}); not asked",
        retry_after_s=round(left, 1),
        metadata={"route": route.reason, "model_requested": route.model, "skipped": "cooling"},
    )
