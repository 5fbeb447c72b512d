"""runner.run with real child processes: each test names one promise of the runner's contract
and breaks when that promise does."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from multi_model import runner
from multi_model.models import PROMPT_FILE, Invocation

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")

PY = sys.executable
ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
MiB = runner.MiB


def py(code: str, **kw: object) -> Invocation:
    return Invocation(argv=(PY, "-c", code), env=ENV, **kw)  # type: ignore[arg-type]


def timed(inv: Invocation, timeout: float = 30.0, **kw: object) -> tuple[float, runner.RunOutput]:
    start = time.monotonic()
    out = runner.run(inv, timeout, **kw)  # type: ignore[arg-type]
    return time.monotonic() - start, out


def proc_state(pid: int) -> tuple[str, int] | None:
    """(state, pgid) of a process, None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2 :].split()
    return fields[0].decode(), int(fields[2])


def running(pid: int) -> bool:
    state = proc_state(pid)
    return state is not None and state[0] not in ("Z", "X")


def live_members(pgid: int) -> list[int]:
    """Processes of group `pgid` that still run (zombies wait for init and do not count)."""
    states = {int(e.name): proc_state(int(e.name)) for e in os.scandir("/proc") if e.name.isdigit()}
    return [pid for pid, st in states.items() if st and st[0] not in "ZX" and st[1] == pgid]


def assert_reaped(pid: int) -> None:
    """The leader is no child of ours any more: neither running nor a zombie we owe a wait."""
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    assert not running(pid)


# --- stdin ------------------------------------------------------------------------------------

ECHO_STDIN = "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read())"


@pytest.mark.parametrize(
    "prompt",
    [
        "héllo wörld ✓ 日本語 🙂\n\n  trailing spaces and tab  \t\n\n",
        "  leading\r\nCRLF kept\r\n",
        "x" * (300 * 1024) + " over the 128 KiB per-argument limit\n",
    ],
)
def test_prompt_arrives_on_stdin_byte_exact(prompt: str) -> None:
    out = runner.run(py(ECHO_STDIN, stdin=prompt), 30)
    assert out.exit_code == 0, out.stderr
    assert out.stdout == prompt


def test_no_prompt_means_dev_null_not_the_parents_stdin() -> None:
    code = "import os, sys; print(os.readlink('/proc/self/fd/0')); print(repr(sys.stdin.read()))"
    read_end, write_end = os.pipe()
    os.write(write_end, b"LEAKED FROM THE TEST PROCESS\n")
    os.close(write_end)
    saved = os.dup(0)
    os.dup2(read_end, 0)  # a parent stdin with data in it: the child must not see it
    try:
        elapsed, out = timed(py(code, stdin=None), 20)
    finally:
        os.dup2(saved, 0)
        os.close(saved)
        os.close(read_end)
    assert out.stdout.splitlines() == ["/dev/null", "''"]
    assert elapsed < 10  # EOF at once, no waiting on a terminal or pipe


def test_stdin_file_is_unlinked_and_private() -> None:
    code = (
        "import os, sys; st = os.fstat(0); "
        "print(st.st_nlink, oct(st.st_mode & 0o777), sys.stdin.read())"
    )
    out = runner.run(py(code, stdin="secret"), 30)
    nlink, mode, text = out.stdout.split()
    assert (nlink, mode, text) == ("0", "0o600", "secret")


@pytest.mark.parametrize("arg", [PROMPT_FILE, f"--file={PROMPT_FILE}"])
def test_prompt_file_is_0600_and_removed_afterwards(arg: str) -> None:
    code = (
        "import os, sys; p = sys.argv[1].removeprefix('--file='); "
        "print(p); print(oct(os.stat(p).st_mode & 0o777)); "
        "sys.stdout.write(open(p, encoding='utf-8').read())"
    )
    prompt = "from a file ✓\n  keep this  \n"
    out = runner.run(Invocation(argv=(PY, "-c", code, arg), env=ENV, prompt_file=prompt), 30)
    path, mode, text = out.stdout.split("\n", 2)
    assert out.exit_code == 0, out.stderr
    assert PROMPT_FILE not in path and os.path.isabs(path)
    assert (mode, text, os.path.exists(path)) == ("0o600", prompt, False)


# --- time-outs and process groups ------------------------------------------------------------

SPAWN_HELPER = (
    "import os, subprocess, sys, time\n"
    "h = subprocess.Popen([sys.executable, '-c', {helper!r}])\n"
    "print(os.getpid(), h.pid, flush=True)\n"
    "{then}\n"
)
SLEEPER = "import time; time.sleep(60)"
TERM_PROOF = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"


def spawn_helper(helper: str = SLEEPER, then: str = "time.sleep(60)") -> Invocation:
    return py(SPAWN_HELPER.format(helper=helper, then=then))


def pids(out: runner.RunOutput) -> tuple[int, int]:
    leader, helper = out.stdout.split()[:2]
    return int(leader), int(helper)


def test_timeout_stops_the_whole_group_and_keeps_partial_output() -> None:
    elapsed, out = timed(spawn_helper(), 1.0, term_grace=0.5)
    leader, helper = pids(out)  # printed before the time-out: partial output is kept
    assert (out.timed_out, out.truncated, out.exit_code) == (True, False, -15)
    assert 1.0 <= elapsed < 1.0 + 0.5 + 1.0
    assert live_members(leader) == []
    assert not running(helper)
    assert_reaped(leader)


def test_leader_ignoring_term_is_killed_after_grace() -> None:
    elapsed, out = timed(
        py("print(__import__('os').getpid(), flush=True)\n" + TERM_PROOF), 0.5, term_grace=0.7
    )
    leader = int(out.stdout.split()[0])
    assert (out.timed_out, out.exit_code) == (True, -9)
    assert 0.5 + 0.7 <= elapsed < 0.5 + 0.7 + 1.0
    assert live_members(leader) == []
    assert_reaped(leader)


def test_helper_holding_stdout_does_not_block_and_is_stopped() -> None:
    elapsed, out = timed(spawn_helper(then="sys.exit(0)"), 30)
    leader, helper = pids(out)
    assert out.exit_code == 0 and not out.timed_out
    # Not the helper's 60 s, nor the grace: the TERMed helper is a zombie that init may reap
    # late (it does here), and a zombie must not count as a process still running.
    assert elapsed < 1.5
    assert not running(helper)
    assert live_members(leader) == []
    assert_reaped(leader)


def test_helper_ignoring_term_is_killed_after_grace() -> None:
    elapsed, out = timed(
        spawn_helper(helper=TERM_PROOF, then="time.sleep(0.5); sys.exit(0)"), 30, term_grace=0.7
    )
    leader, helper = pids(out)
    assert out.exit_code == 0 and not out.timed_out
    assert elapsed < 0.5 + 0.7 + 2.0
    assert not running(helper)
    assert live_members(leader) == []


# --- output caps and decoding ----------------------------------------------------------------

FLOOD = (
    "import os, sys, time\n"
    "print(os.getpid(), file=sys.{other}, flush=True)\n"
    "for _ in range({mb}): sys.{stream}.buffer.write(b'x' * 1048576); sys.{stream}.flush()\n"
    "time.sleep(60)\n"
)


def flood(mb: int = 20, stream: str = "stdout") -> Invocation:
    """`mb` MiB on `stream`, then 60 s of sleep; the leader's pid on the other stream."""
    other = "stderr" if stream == "stdout" else "stdout"
    return py(FLOOD.format(mb=mb, stream=stream, other=other))


@pytest.mark.parametrize(
    "stream, cap", [("stdout", MiB), ("stderr", MiB), ("stdout", runner.DEFAULT_OUTPUT_CAP)]
)
def test_flood_is_cut_at_the_cap_and_the_process_stopped(stream: str, cap: int) -> None:
    kw = {"output_cap": cap} if cap != runner.DEFAULT_OUTPUT_CAP else {}
    elapsed, out = timed(flood(20, stream), 60, **kw)
    flooded, other = (out.stdout, out.stderr) if stream == "stdout" else (out.stderr, out.stdout)
    assert out.truncated and not out.timed_out
    assert flooded == "x" * cap  # 1 MiB, or 10 MiB by default, of the 20 MiB written
    assert out.exit_code is not None and out.exit_code < 0  # stopped, not finished
    assert elapsed < 20  # at the cap, not after the 60 s sleep
    assert live_members(int(other.split()[0])) == []


def test_output_exactly_at_the_cap_is_not_truncated() -> None:
    code = "import sys; sys.stdout.buffer.write(b'y' * 1048576)"
    out = runner.run(py(code), 30, output_cap=1 * MiB)
    assert not out.truncated
    assert out.stdout == "y" * MiB


def test_invalid_utf8_becomes_replacement_characters() -> None:
    code = (
        "import sys; sys.stdout.buffer.write(b'caf\\xe9 \\xff\\xfe ok\\n'); "
        "sys.stderr.buffer.write(b'\\xc3(err\\n')"
    )
    out = runner.run(py(code), 30)
    assert out.stdout == "caf\ufffd \ufffd\ufffd ok\n"
    assert out.stderr == "\ufffd(err\n"


# --- spawn failures ---------------------------------------------------------------------------


@pytest.mark.parametrize("argv0", ["no-such-cli-xyz", "{tmp}/absent", "{tmp}/plain", "{tmp}"])
def test_missing_executable_is_a_spawn_error(tmp_path: Path, argv0: str) -> None:
    (tmp_path / "plain").write_text("#!/bin/sh\necho hi\n")  # not executable
    inv = Invocation(argv=(argv0.format(tmp=tmp_path), "-p"), env={"PATH": str(tmp_path)})
    out = runner.run(inv, 5)
    assert out.spawn_error and "not found" in out.spawn_error
    assert out.exit_code is None and out.stdout == ""


def test_broken_interpreter_is_a_spawn_error_not_an_exception(tmp_path: Path) -> None:
    cli = tmp_path / "cli"
    cli.write_text("#!/nonexistent/interpreter\n")
    cli.chmod(0o755)
    out = runner.run(Invocation(argv=(str(cli),), env=ENV), 5)
    assert out.spawn_error and out.exit_code is None


@pytest.mark.parametrize("argv", [(PY, "-c", "pass", "a\x00b"), (PY, PROMPT_FILE)])
def test_nul_byte_in_argv_is_a_spawn_error(argv: tuple[str, ...]) -> None:
    out = runner.run(Invocation(argv=argv, env=ENV), 5)  # PROMPT_FILE without prompt_file
    assert out.spawn_error and out.exit_code is None


# --- environment, cwd, exit codes, reaping ---------------------------------------------------


def test_env_is_exactly_the_invocations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MM_MUST_NOT_LEAK", "1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-parent")
    env_bin = shutil.which("env")
    assert env_bin
    out = runner.run(Invocation(argv=(env_bin,), env={"PATH": "/usr/bin:/bin", "ONLY": "me"}), 5)
    lines = sorted(out.stdout.splitlines())  # plus the call's marker (proctree.py), only
    assert lines[0].startswith("MULTI_MODEL_CALL=") and lines[1:] == [
        "ONLY=me",
        "PATH=/usr/bin:/bin",
    ]
    empty = runner.run(Invocation(argv=(env_bin,), env={}), 5)
    assert empty.stdout.startswith("MULTI_MODEL_CALL=") and empty.stdout.count("\n") == 1
    assert empty.exit_code == 0


def test_cwd_exit_code_and_stderr_are_reported(tmp_path: Path) -> None:
    code = "import os, sys; print(os.getcwd()); sys.stderr.write('boom\\n'); sys.exit(3)"
    out = runner.run(py(code, cwd=str(tmp_path)), 30)
    assert (out.stdout, out.stderr, out.exit_code) == (f"{tmp_path}\n", "boom\n", 3)
    assert out.executable == PY and not out.timed_out and out.duration_s > 0


@pytest.mark.parametrize("case", ["exit", "timeout", "cap"])
def test_leader_is_always_reaped(case: str) -> None:
    inv = {
        "exit": py("print(__import__('os').getpid())"),
        "timeout": py(f"print(__import__('os').getpid(), flush=True)\n{SLEEPER}"),
        "cap": flood(mb=3, stream="stderr"),
    }[case]
    out = runner.run(inv, 1.0, output_cap=1 * MiB, term_grace=0.5)
    leader = int(out.stdout.split()[0])
    assert_reaped(leader)
    assert live_members(leader) == []


def test_prompt_with_lone_surrogate_is_sent_not_raised() -> None:
    out = runner.run(
        Invocation(
            argv=(sys.executable, "-c", "import sys; sys.stdout.write(sys.stdin.read())"),
            env={"PATH": os.defpath},
            stdin="broken \ud83d emoji",
        ),
        10,
    )
    assert out.exit_code == 0 and out.stdout == "broken ? emoji"
