"""A headless chromium driven over the Chrome DevTools Protocol on a pipe
(`--remote-debugging-pipe`: JSON messages ending in NUL on fds 3 and 4), stdlib only. It opens
one local file offline and records what a test asserts on: console errors, uncaught
exceptions, log errors (a blocked script or a policy violation), and every network request.
The browser runs in its own process group with a fresh profile and is stopped by PID."""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OFFLINE_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--enable-logging=stderr",
    "--remote-debugging-pipe",
]


def find() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _onto_3_and_4(read_end: int, write_end: int) -> None:
    """In the child: the pipe ends where chromium looks for them (first moved above 4, so
    neither overwrites the other)."""
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (read_end, write_end)]
    os.dup2(high[0], 3)
    os.dup2(high[1], 4)


@dataclass
class Page:
    """What loading one file did."""

    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


class Browser:
    def __init__(self, binary: str, profile: Path, width: int = 1366, height: int = 900) -> None:
        to_child, self._write = os.pipe()
        self._read, from_child = os.pipe()
        # the child reads CDP from fd 3 and writes to fd 4
        self.proc = subprocess.Popen(
            [
                binary,
                *OFFLINE_FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(profile.parent / "chromium.log", "wb"),  # noqa: SIM115 - child owns it
            close_fds=False,  # Python's own fds are not inheritable; 3 and 4 must survive
            preexec_fn=lambda: _onto_3_and_4(to_child, from_child),
            start_new_session=True,
        )
        os.close(to_child)
        os.close(from_child)
        self._buf = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []

    def close(self) -> None:
        for fd in (self._write, self._read):
            with contextlib.suppress(OSError):
                os.close(fd)
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._write, json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._next(30.0)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})  # type: ignore[no-any-return]
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._next(deadline - time.monotonic())
            self.events.append(event)
            if event.get("method") == method:
                return event

    def _next(self, timeout: float) -> dict[str, Any]:
        import select  # noqa: PLC0415 - only this reader needs it

        deadline = time.monotonic() + timeout
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._read], [], [], left)[0]:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._read, 1 << 16)
            if not chunk:
                raise EOFError("chromium closed the pipe")
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)  # type: ignore[no-any-return]

    def open(self, path: Path) -> tuple[str, Page]:
        """Attach to the page, enable the recorders, load `path`; the session id and the
        page's record once its load event fired."""
        target = next(
            t["targetId"]
            for t in self.call("Target.getTargets")["targetInfos"]
            if t["type"] == "page"
        )
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session)
        self.call("Page.navigate", session, url=path.as_uri())
        self.wait_for("Page.loadEventFired")
        self.evaluate(session, "new Promise(r => setTimeout(r, 300))")  # late requests
        return session, self.record()

    def record(self) -> Page:
        page = Page()
        for e in self.events:
            method, p = e.get("method"), e.get("params", {})
            if method == "Network.requestWillBeSent":
                page.requests.append(p["request"]["url"])
            elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                page.console_errors.append(json.dumps(p.get("args")))
            elif method == "Runtime.exceptionThrown":
                page.console_errors.append(json.dumps(p.get("exceptionDetails")))
            elif method == "Log.entryAdded" and p["entry"].get("level") == "error":
                page.console_errors.append(p["entry"].get("text", ""))
        return page

    def evaluate(self, session: str, expression: str) -> Any:
        reply = self.call(
            "Runtime.evaluate",
            session,
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
        )
        if "exceptionDetails" in reply:
            raise RuntimeError(f"evaluate failed: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def screenshot(self, session: str, out: Path) -> Path:
        """The full page as PNG."""
        height = self.evaluate(session, "document.documentElement.scrollHeight")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            session,
            width=1366,
            height=int(height),
            deviceScaleFactor=1,
            mobile=False,
        )
        data = self.call("Page.captureScreenshot", session, format="png")["data"]
        out.write_bytes(base64.b64decode(data))
        return out
