"""`[policy]`: which providers may be called, how often, with how long a timeout, and which
may see code from the edit-review hooks. Every check runs before anything starts and raises
PolicyViolation (exit 8) naming the rule; failover never moves to a provider the policy
forbids."""

from __future__ import annotations

import time
from collections.abc import Sequence

from multi_model.config import PolicySettings, Settings
from multi_model.errors import PolicyViolation
from multi_model.routing import Route
from multi_model.store import Store

WINDOWS = (("max_calls_per_hour", 3600.0, "hour"), ("max_calls_per_day", 86400.0, "24 h"))


def allowed(provider: str, policy: PolicySettings, hooks: bool = False) -> str | None:
    """None when `provider` may be called, else the rule that forbids it."""
    if provider in policy.block:
        return f"policy.block lists {provider}"
    if policy.allow and provider not in policy.allow:
        return f"policy.allow does not list {provider} (allowed: {', '.join(policy.allow)})"
    if hooks and policy.hook_providers is not None and provider not in policy.hook_providers:
        return (
            f"policy.hook_providers does not list {provider}, so it may not see code from "
            f"the edit-review hooks (listed: {', '.join(policy.hook_providers) or 'none'})"
        )
    return None


def check(
    routes: Sequence[Route],
    settings: Settings,
    timeout: float | None,
    store: Store,
    hooks: bool = False,
) -> None:
    policy = settings.policy
    if policy.max_timeout is not None and timeout is not None and timeout > policy.max_timeout:
        raise PolicyViolation(
            f"timeout {timeout:g}s is over policy.max_timeout ({policy.max_timeout:g}s)"
        )
    wanted: dict[str, int] = {}
    for r in routes:
        rule = allowed(r.provider, policy, hooks)
        if rule:
            raise PolicyViolation(f"{r.spec}: {rule}")
        wanted[r.provider] = wanted.get(r.provider, 0) + 1
    now = time.time()
    for key, span, label in WINDOWS:
        caps: dict[str, int] = getattr(policy, key)
        for provider, count in wanted.items():
            cap = caps.get(provider, caps.get("*"))
            if cap is None:
                continue
            used = store.safely(store.count_calls, provider, now - span) or 0
            if used + count > cap:  # an unreadable store counts 0: it must not stop all work
                raise PolicyViolation(
                    f"{provider}: policy.{key} is {cap} and {used} call(s) were made in the "
                    f"last {label}"
                )
