"""Local routes end to end against the real server, and proof that nothing left the machine.

`mm` runs in a child Python with an audit hook (`sys.addaudithook`, installed before the
package is imported) that logs every `socket.connect`, `socket.getaddrinfo` and process start
of the whole run to a file. A run passes only when the log holds the connection to the
server (so the hook saw the traffic), every address is loopback, and no process was started
(a child's sockets would escape the hook). The control run to a non-loopback address shows
the check catching it.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys
from pathlib import Path

from multi_model.demo import llama

AUDITED = r"""
import json, sys
log = open(sys.argv[1], "a", encoding="utf-8")
WATCH = {"socket.connect", "socket.getaddrinfo", "subprocess.Popen", "os.exec",
         "os.posix_spawn", "os.spawn", "os.system", "os.fork"}
def where(event, args):
    if event == "socket.getaddrinfo":
        return str(args[0]), args[1]
    if event == "socket.connect":
        address = args[1]
        if isinstance(address, tuple):
            return str(address[0]), address[1]
        return "unix:" + str(address), None
    return repr(args[0])[:200], None
def hook(event, args):
    if event in WATCH:
        host, port = where(event, args)
        log.write(json.dumps({"event": event, "host": host, "port": port}) + "\n")
        log.flush()
sys.addaudithook(hook)
from multi_model.cli import main
sys.exit(main(sys.argv[2:]))
"""


def audited_mm(home: Path, *argv: str) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    log = home / "audit.jsonl"
    env = {"MULTI_MODEL_HOME": str(home), "HOME": str(home), "PATH": "/nonexistent"}
    done = subprocess.run(
        [sys.executable, "-c", AUDITED, str(log), *argv],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    events = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return done, events


def escapes(events: list[dict]) -> list[dict]:
    """Events that could reach beyond this machine: a non-loopback connect or lookup, or a
    process start (whose sockets the hook cannot see)."""
    return [e for e in events if not (e["event"].startswith("socket.") and _local(e["host"]))]


def _local(host: str) -> bool:
    if host == "localhost" or host.startswith("unix:"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def config(home: Path, url: str, extra: str = "") -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        f"timeout = 120\nmax_tokens = 8\n[retry]\nmax_retries = 0\n"
        f'[endpoints.local]\nbase_url = "{url}"\nmodel = "{llama.MODEL}"\n{extra}'
    )


def connects_to(events: list[dict], url: str) -> bool:
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    return {"event": "socket.connect", "host": "127.0.0.1", "port": port} in events


def test_task_private_stays_on_this_machine(llama_server: llama.Server, tmp_path: Path) -> None:
    home = tmp_path / "home"
    config(home, llama_server.base_url, '[tasks.private]\nmodels = ["local"]\n')
    done, events = audited_mm(home, "ask", "--task", "private", "--prompt", "Say hi.")
    assert done.returncode == 0, done.stderr
    [answer] = json.loads(done.stdout)
    assert (answer["status"], answer["provider"]) == ("ok", "local")
    assert connects_to(events, llama_server.base_url), events
    assert escapes(events) == []


def test_profile_local_only_stays_on_this_machine(
    llama_server: llama.Server, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    config(home, llama_server.base_url)
    argv = ["ask", "--profile", "local-only", "--models", "local", "--prompt", "Say hi."]
    done, events = audited_mm(home, *argv)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["status"] == "ok"
    assert connects_to(events, llama_server.base_url), events
    assert escapes(events) == []


def test_the_audit_catches_a_remote_address(tmp_path: Path) -> None:
    home = tmp_path / "home"
    config(home, "http://192.0.2.1:9/v1")  # TEST-NET-1: nothing answers there
    text = home.joinpath("config.toml").read_text()
    home.joinpath("config.toml").write_text(text.replace("timeout = 120", "timeout = 2"))
    done, events = audited_mm(home, "ask", "--models", "local", "--prompt", "Say hi.")
    assert done.returncode != 0
    assert {"event": "socket.connect", "host": "192.0.2.1", "port": 9} in escapes(events)


def test_private_refuses_a_remote_endpoint(tmp_path: Path) -> None:
    home = tmp_path / "home"
    config(home, "http://192.0.2.1:9/v1", '[tasks.private]\nmodels = ["local"]\n')
    done, events = audited_mm(home, "ask", "--task", "private", "--prompt", "Say hi.")
    assert done.returncode == 8, done.stderr  # refused by policy before anything starts
    assert not [e for e in events if e["event"] == "socket.connect"]
