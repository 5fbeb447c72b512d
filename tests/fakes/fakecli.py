"""A fake AI CLI for tests: behaves as told by `scenario.json` beside its executable.

Each executable in a fake bin dir is a small wrapper that calls `main` with its own name
and bin dir. The scenario for that name (or "*") says what to print and how to misbehave:

    stdout / stderr      text to print (stdout_file / stderr_file: a fixture path instead)
    exit                 exit code (default 0)
    sleep                seconds to wait before answering
    stdout_hex           raw bytes (hex) written to stdout before `stdout` (invalid UTF-8...)
    mode                 normal | hang | ignore_term | child_holds_stdout | flood | bad_utf8
                         | crash (dies of SIGSEGV after printing)
    flood_mb             MiB written by mode flood (default 20)
    hang_after           true: keep running (sleep 3600) after printing, e.g. after a flood
    version              text printed for --version (version_sleep: delay first)
    auth                 {"stdout": ..., "exit": ...} printed for the auth status subcommands
    by_arg               {argv token: overrides}: keys merged over this scenario when that
                         token is in argv, as a word or a `--flag=token` value (one fake
                         codex, different behaviour per model)
    sequence             [overrides, ...]: the n-th model call (not --version or a login
                         check) merges sequence[n] (the last one for every later call): a CLI
                         that fails twice, then answers
    tree                 a marker: before anything else, start a child and, from it, a
                         grandchild that calls setsid(), both sleeping with the marker in
                         argv (the call goes on once the grandchild is up)
    term_beats           a file: with mode ignore_term, one line is appended to it every
                         BEAT_S after SIGTERM arrives (counts how long it was left running)

Every call is appended to calls.jsonl in the bin dir: argv, stdin, env, cwd, pid, pgid, and
`running`: the pids of earlier model calls of the same CLI still running when it started.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

AUTH_SUBCOMMANDS = ({"login", "status"}, {"auth", "status"}, {"status"})
BEAT_S = 0.05
TREE = (
    "import os, sys, time\n"
    "if os.fork() == 0:\n"
    "    os.setsid()\n"
    "    open(sys.argv[2], 'w').close()\n"
    "time.sleep(3600)\n"
)


def main(name: str, bindir: str | Path, argv: list[str]) -> int:
    bindir = Path(bindir)
    spec = _scenario(bindir, name)
    words = {*argv, *(a.split("=", 1)[1] for a in argv if a.startswith("--") and "=" in a)}
    for token, overrides in spec.get("by_arg", {}).items():
        if token in words:
            spec = {**spec, **overrides}
    if "sequence" in spec and argv[:1] != ["--version"] and set(argv) not in AUTH_SUBCOMMANDS:
        steps = spec["sequence"]
        spec = {**spec, **steps[min(_model_calls(bindir, name), len(steps) - 1)]}
    stdin = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
    model_call = argv[:1] != ["--version"] and set(argv) not in AUTH_SUBCOMMANDS
    _log(
        bindir,
        {
            "name": name,
            "argv": argv,
            "stdin": stdin,
            "env": dict(os.environ),
            "cwd": os.getcwd(),
            "pid": os.getpid(),
            "pgid": os.getpgid(0),
            "running": _still_running(bindir, name) if model_call else [],
        },
    )
    if "tree" in spec and model_call:
        _spawn_tree(spec["tree"], bindir)
    if argv[:1] == ["--version"]:
        time.sleep(spec.get("version_sleep", 0))
        print(spec.get("version", f"{name} 9.9.9-fake"))
        return 0
    if set(argv) in AUTH_SUBCOMMANDS and "auth" in spec:
        print(spec["auth"].get("stdout", ""))
        return int(spec["auth"].get("exit", 0))
    if argv[:1] == ["models"] and "models" in spec:
        print(spec["models"])
        return 0
    return _behave(spec)


def _behave(spec: dict) -> int:
    mode = spec.get("mode", "normal")
    if mode == "hang":
        time.sleep(3600)
    if mode == "ignore_term":
        termed: list[int] = []
        signal.signal(signal.SIGTERM, lambda *_: termed.append(1))
        while True:
            time.sleep(BEAT_S)
            if termed and "term_beats" in spec:
                with open(spec["term_beats"], "a") as f:
                    f.write("beat\n")
    time.sleep(spec.get("sleep", 0))
    out = sys.stdout.buffer
    if mode == "flood":
        chunk = b"x" * 1024 * 1024
        for _ in range(int(spec.get("flood_mb", 20))):
            out.write(chunk)
        out.flush()
        return _end(spec)
    if mode == "bad_utf8":
        out.write(b"caf\xe9 \xff\xfe answer\n")
    out.write(bytes.fromhex(spec.get("stdout_hex", "")))
    out.write(_text(spec, "stdout").encode())
    out.flush()
    sys.stderr.write(_text(spec, "stderr"))
    sys.stderr.flush()
    if mode == "child_holds_stdout":
        # A helper that outlives the CLI and keeps stdout/stderr open, as real CLIs do.
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    if mode == "crash":
        signal.signal(signal.SIGSEGV, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGSEGV)
    return _end(spec)


def _end(spec: dict) -> int:
    if spec.get("hang_after"):
        time.sleep(3600)
    return int(spec.get("exit", 0))


def _text(spec: dict, key: str) -> str:
    if f"{key}_file" in spec:
        return Path(spec[f"{key}_file"]).read_text(encoding="utf-8")
    return spec.get(key, "")


def _scenario(bindir: Path, name: str) -> dict:
    try:
        data = json.loads((bindir / "scenario.json").read_text())
    except (OSError, ValueError):
        return {}
    return data.get(name) or data.get("*") or {}


def _spawn_tree(marker: str, bindir: Path) -> None:
    """A child in our group and a grandchild in a session of its own, both marked."""
    ready = bindir / f"tree-{os.getpid()}.ready"
    subprocess.Popen([sys.executable, "-c", TREE, marker, str(ready)])
    deadline = time.monotonic() + 30
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.01)


def _still_running(bindir: Path, name: str) -> list[int]:
    """Pids of earlier model calls of `name` that still run (zombies do not)."""
    try:
        lines = (bindir / "calls.jsonl").read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    calls = [json.loads(line) for line in lines if line]
    return [
        c["pid"]
        for c in calls
        if c["name"] == name
        and c["argv"][:1] != ["--version"]
        and set(c["argv"]) not in AUTH_SUBCOMMANDS
        and _alive(c["pid"])
    ]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except (OSError, IndexError):
        return False


def _model_calls(bindir: Path, name: str) -> int:
    """Earlier calls of `name` that were model calls (not --version, not a login check)."""
    try:
        lines = (bindir / "calls.jsonl").read_text(encoding="utf-8").splitlines()
    except OSError:
        return 0
    calls = [json.loads(line) for line in lines if line]
    return sum(
        1
        for c in calls
        if c["name"] == name
        and c["argv"][:1] != ["--version"]
        and set(c["argv"]) not in AUTH_SUBCOMMANDS
    )


def _log(bindir: Path, record: dict) -> None:
    with open(bindir / "calls.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
