"""One routed call: the adapter builds it, runner.py (or httpcall.py) runs it, the adapter
parses what came back, and what the runner saw (time-out, cap, spawn failure, a crash after a
partial answer) has the last word. The result is a `Response`; a call never raises.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from multi_model import providers, runner
from multi_model.config import Settings, provider_env
from multi_model.detect import cached_version, find_executable
from multi_model.models import Parsed, Request, Response, RunOutput, Status
from multi_model.providers.base import CliProvider, HttpProvider, InProcessProvider
from multi_model.providers.parse import stderr_tail
from multi_model.routing import Route


def call(
    r: Route,
    prompt: str,
    settings: Settings,
    env: Mapping[str, str],
    timeout: float | None = None,
    cwd: str | None = None,
    cancel: threading.Event | None = None,
) -> Response:
    """One routed call. Never raises."""
    base = Response(
        model=r.spec,
        provider=r.provider,
        status="ok",
        metadata={"route": r.reason, "model_requested": r.model},
    )
    try:
        prov = providers.get(r.provider, settings)
        ps = settings.provider(prov.name)
        limit = timeout or ps.timeout or _endpoint_timeout(r.provider, settings) or settings.timeout
        req = Request(
            prompt=prompt,
            model=r.model,
            cwd=cwd,
            timeout=limit,
            extra_args=tuple(ps.args),
            allow_writes=ps.allow_writes,
            resume=r.resume,
            max_tokens=settings.max_tokens_for(prov.name),
        )
        if not prov.read_only and not ps.allow_writes:
            return base.model_copy(
                update={
                    "status": "refused",
                    "error": (
                        f"{prov.name} has no read-only headless mode; set "
                        f"[providers.{prov.name}] allow_writes = true to use it anyway"
                    ),
                }
            )
        if isinstance(prov, InProcessProvider):
            return _call_inproc(prov, req, base)
        if isinstance(prov, HttpProvider):
            return _call_http(prov, req, provider_env(settings, env), settings, base)
        return _call_cli(prov, req, env, settings, base, cancel)
    except Exception as exc:  # noqa: BLE001 - a bug in one adapter must not sink the others
        return base.model_copy(
            update={
                "status": "crashed",
                "error": f"internal error: {exc!r}",
                "metadata": {**base.metadata, "traceback": traceback.format_exc(limit=5)},
            }
        )


def time_limit(provider: str, settings: Settings) -> float:
    """A provider's own time limit: `[providers.X] timeout`, the endpoint's, the default."""
    return (
        settings.provider(provider).timeout
        or _endpoint_timeout(provider, settings)
        or settings.timeout
    )


def _endpoint_timeout(name: str, settings: Settings) -> float | None:
    endpoint = settings.endpoints.get(name)
    return endpoint.timeout if endpoint else None


def _call_cli(
    prov: CliProvider,
    req: Request,
    env: Mapping[str, str],
    settings: Settings,
    base: Response,
    cancel: threading.Event | None = None,
) -> Response:
    exe = find_executable(prov, settings, env)
    if exe is None:
        hint = f"; to install: {prov.install_hint}" if prov.install_hint else ""
        return base.model_copy(
            update={"status": "not_installed", "error": f"{prov.name} CLI not found on PATH{hint}"}
        )
    with ThreadPoolExecutor(max_workers=1) as side:
        version = side.submit(cached_version, prov, exe, env, settings.probe_timeout)
        child_env = prov.env_for(env, tuple(settings.provider(prov.name).env))
        out = runner.run(
            prov.build(req, child_env, exe),
            req.timeout,
            output_cap=int(settings.output_cap_mb * runner.MiB),
            cancel=cancel,
        )
        parsed = finish(
            out, prov.parse(out) if not out.spawn_error else Parsed(), req.timeout, prov
        )
        return _response(base, parsed, out, cli_used=exe, cli_version=version.result())


def _call_http(
    prov: HttpProvider, req: Request, env: Mapping[str, str], settings: Settings, base: Response
) -> Response:
    early = prov.preflight(req, env)
    if early is not None:
        return base.model_copy(update={**_parsed_fields(early), "cli_used": prov.base_url(env)})
    from multi_model import httpcall  # noqa: PLC0415 - start-up: urllib and ssl only for HTTP

    call = prov.build_http(req, env)
    reply = httpcall.fetch(call, req.timeout, output_cap=int(settings.output_cap_mb * runner.MiB))
    parsed = prov.parse_http(reply)
    if reply.timed_out:
        parsed = replace(parsed, status="timeout", error=f"no answer within {req.timeout:g}s")
    elif reply.truncated:
        parsed = replace(parsed, status="oversize", error="reply exceeded the output cap")
    elif parsed.status == "ok" and not parsed.text.strip():
        parsed = replace(parsed, status="empty_output", error="the server returned no text")
    return base.model_copy(
        update={
            **_parsed_fields(parsed),
            "cli_used": call.url,
            "exit_code": reply.status or None,
            "duration_s": reply.duration_s,
            "truncated": reply.truncated,
        }
    )


def _call_inproc(prov: InProcessProvider, req: Request, base: Response) -> Response:
    start = time.monotonic()
    parsed = prov.answer(req)
    if parsed.status == "ok" and not parsed.text.strip():
        parsed = replace(parsed, status="empty_output", error="no answer text")
    return base.model_copy(
        update={
            **_parsed_fields(parsed),
            "cli_used": "in-process",
            "duration_s": round(time.monotonic() - start, 3),
        }
    )


def finish(
    out: RunOutput, parsed: Parsed, timeout: float, prov: CliProvider | None = None
) -> Parsed:
    """Apply what the runner saw over the adapter's reading: spawn failure, timeout, cap,
    a crash after a partial answer, and 'exit 0 with nothing' (exit code 0 alone never
    means success, and an answer followed by a non-zero exit is not one either)."""
    if out.spawn_error:
        status: Status = (
            "not_installed"
            if "not found" in out.spawn_error
            else "oversize"
            if "Argument list too long" in out.spawn_error
            else "refused"
            if runner.NUL_IN_ARGV in out.spawn_error
            else "crashed"
        )
        return Parsed(status=status, error=out.spawn_error)
    if out.cancelled:
        return replace(parsed, status="crashed", error="cancelled: the dispatch was interrupted")
    if out.timed_out:
        return replace(
            parsed, status="timeout", error=f"no answer within {timeout:g}s; process group stopped"
        )
    if out.truncated:
        return replace(parsed, status="oversize", error="output exceeded the cap and was cut")
    if parsed.status == "ok" and out.exit_code not in (0, None):
        cause = (prov or CliProvider()).exit_failure(out)
        return replace(
            parsed,
            status=cause.status,
            retry_after_s=cause.retry_after_s,
            error=f"exited {out.exit_code} after a partial answer: {cause.error}",
        )
    if parsed.status == "ok" and not parsed.text.strip():
        return replace(
            parsed, status="empty_output", error=parsed.error or "exit 0 but no answer text"
        )
    return _with_login_hint(parsed, prov)


def _with_login_hint(parsed: Parsed, prov: CliProvider | None) -> Parsed:
    """auth_required always says how to log in to this CLI."""
    hint = prov.login_hint if prov else ""
    if parsed.status != "auth_required" or not hint or hint in (parsed.error or ""):
        return parsed
    return replace(parsed, error=f"{parsed.error or 'not logged in'} (log in: {hint})")


def _parsed_fields(parsed: Parsed) -> dict[str, object]:
    return {
        "status": parsed.status,
        "text": parsed.text,
        "error": parsed.error,
        "usage": parsed.usage,
        "session_id": parsed.session_id,
        "model_reported": parsed.model_reported,
        "retry_after_s": parsed.retry_after_s,
    }


def _response(
    base: Response, parsed: Parsed, out: RunOutput, *, cli_used: str, cli_version: str | None
) -> Response:
    metadata = dict(base.metadata)
    if parsed.status != "ok" and out.stderr.strip():
        metadata["stderr_tail"] = stderr_tail(out.stderr, 10)
    return base.model_copy(
        update={
            **_parsed_fields(parsed),
            "cli_used": cli_used,
            "cli_version": cli_version,
            "exit_code": out.exit_code,
            "duration_s": round(out.duration_s, 3),
            "truncated": out.truncated,
            "metadata": metadata,
        }
    )
