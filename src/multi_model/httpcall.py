"""The only place that opens HTTP connections (processes: runner.py).

`fetch` performs one request of an HTTP provider (a model server, an API) and never raises:
nothing answering is status 0 with `error`; the time-out covers connecting and a body that
trickles in; a body over the cap is cut and flagged; loopback URLs bypass any proxy from the
environment. Kept apart from runner.py so that a command that only runs CLIs does not import
urllib, http.client and ssl: callers of HTTP providers import this module when they need it.
Stdlib only, like runner.py.
"""

from __future__ import annotations

import dataclasses
import http.client
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import IO

from multi_model.calls import HttpCall, HttpReply
from multi_model.runner import DEFAULT_OUTPUT_CAP


def fetch(call: HttpCall, timeout: float, *, output_cap: int = DEFAULT_OUTPUT_CAP) -> HttpReply:
    """Perform one HTTP request. Never raises; status 0 with `error` when nothing answered."""
    return dataclasses.replace(_fetch(call, timeout, output_cap), url=call.url)


def _fetch(call: HttpCall, timeout: float, output_cap: int) -> HttpReply:
    start = time.monotonic()
    deadline = start + timeout
    req = urllib.request.Request(call.url, data=call.body, method=call.method)
    for key, value in call.headers.items():
        req.add_header(key, value)
    try:
        with _opener(call.url).open(req, timeout=timeout) as resp:
            body, cut, late = _read_body(resp, output_cap, deadline)
            return HttpReply(
                status=resp.status,
                body=body,
                headers=dict(resp.headers.items()),
                duration_s=time.monotonic() - start,
                truncated=cut,
                timed_out=late,
            )
    except urllib.error.HTTPError as exc:
        body, cut, _ = _read_body(exc, output_cap, deadline)
        return HttpReply(
            status=exc.code,
            body=body,
            headers=dict(exc.headers.items()) if exc.headers else {},
            duration_s=time.monotonic() - start,
            truncated=cut,
        )
    except TimeoutError:  # socket.timeout too (an alias since 3.10)
        return HttpReply(status=0, duration_s=time.monotonic() - start, timed_out=True)
    except http.client.HTTPException as exc:  # not HTTP at all (BadStatusLine), cut replies
        return HttpReply(
            status=0, duration_s=time.monotonic() - start, error=f"not a valid HTTP reply: {exc!r}"
        )
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        # urllib wraps a connect/send time-out in URLError: still a time-out, not a refusal
        late = isinstance(reason, TimeoutError)
        return HttpReply(
            status=0,
            duration_s=time.monotonic() - start,
            timed_out=late,
            error=None if late else str(reason),
        )


def _read_body(resp: IO[bytes], cap: int, deadline: float) -> tuple[str, bool, bool]:
    """(body, truncated, timed_out). `read1` returns what has arrived, so a server that
    trickles its body is cut at the deadline (`read(n)` would wait for n bytes or EOF)."""
    read = getattr(resp, "read1", resp.read)
    chunks: list[bytes] = []
    size = 0
    while size <= cap:
        if time.monotonic() > deadline:
            return b"".join(chunks).decode("utf-8", "replace"), False, True
        try:
            chunk = read(65536)
        except TimeoutError:
            return b"".join(chunks).decode("utf-8", "replace"), False, True
        except (http.client.HTTPException, OSError):  # connection cut mid-body: keep what came
            break
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    data = b"".join(chunks)
    return data[:cap].decode("utf-8", "replace"), size > cap, False


def _opener(url: str) -> urllib.request.OpenerDirector:
    """Loopback URLs never go through a proxy from the environment."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if host in ("127.0.0.1", "localhost", "::1") or host.startswith("127."):
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()
