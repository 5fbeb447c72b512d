"""`--session NAME`: a named conversation continued through the CLI's own resume (fake CLIs
here; tests/contract/test_real_clis.py resumes the real binaries against the mock server)."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from multi_model import providers
from multi_model.config import Settings
from multi_model.errors import UsageError
from multi_model.fanout import dispatch
from multi_model.models import Request
from multi_model.providers.base import CliProvider
from multi_model.sessions import Sessions
from multi_model.store import Store
from tests.conftest import FakeCLIs, run_mm

THREAD = "01a1fc8f-4773-76a0-b75f-891e6550fdef"  # in codex/ok.exec-json.jsonl


def sessions() -> Sessions:
    return Sessions(Store.of(os.environ))


def codex_ok(fake: FakeCLIs) -> None:
    fake.set("codex", fixture="codex/ok.exec-json.jsonl")


def test_first_turn_starts_later_turns_resume_in_the_same_folder(
    fake_clis: FakeCLIs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    codex_ok(fake_clis)
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    project.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(project)
    [first] = dispatch(
        ["codex:gpt-5.4"], "turn one", env=fake_clis.env(), settings=Settings(), session="design"
    )
    assert first.ok and first.metadata["session"] == {
        "name": "design",
        "turn": 1,
        "resumed": False,
        "native_id": THREAD,
    }
    [conv] = sessions().list("design")
    assert (conv.provider, conv.model, conv.native_id, conv.turns, conv.cwd) == (
        "codex",
        "gpt-5.4",
        THREAD,
        1,
        str(project),
    )

    monkeypatch.chdir(elsewhere)
    [second] = dispatch(
        ["codex:gpt-5.4"], "turn two", env=fake_clis.env(), settings=Settings(), session="design"
    )
    assert second.ok and second.metadata["session"]["turn"] == 2
    assert second.metadata["session"]["resumed"] is True
    one, two = fake_clis.calls("codex")[-2:]
    assert "resume" not in one["argv"]
    assert two["argv"][-3:] == ["resume", THREAD, "-"] and two["stdin"] == "turn two"
    assert two["cwd"] == str(project)  # the CLI files its sessions by folder
    assert sessions().get("design", "codex:gpt-5.4").turns == 2


def test_one_name_keeps_one_conversation_per_model(fake_clis: FakeCLIs) -> None:
    codex_ok(fake_clis)
    fake_clis.set("claude", fixture="claude/ok.json")
    specs = ["codex:gpt-5.4", "claude:sonnet"]
    for _ in range(2):
        out = dispatch(
            specs,
            "q",
            env=fake_clis.env(),
            settings=Settings(),
            allow_claude_cli=True,
            session="pair",
        )
        assert all(r.ok for r in out)
    assert sorted((c.spec, c.turns) for c in sessions().list("pair")) == [
        ("claude:sonnet", 2),
        ("codex:gpt-5.4", 2),
    ]
    claude_ids = {c.native_id for c in sessions().list("pair") if c.provider == "claude"}
    last = fake_clis.calls("claude")[-1]["argv"]
    assert last[last.index("--resume") + 1] in claude_ids


def test_a_conversation_the_cli_lost_says_how_to_start_over(fake_clis: FakeCLIs) -> None:
    codex_ok(fake_clis)
    dispatch(["codex"], "one", env=fake_clis.env(), settings=Settings(), session="s1")
    fake_clis.set(
        "codex",
        exit=1,
        stderr="Error: thread/resume: thread/resume failed: no "
        f"rollout found for thread id {THREAD} (code -32600)",
    )
    [out] = dispatch(
        ["codex"],
        "two",
        env=fake_clis.env(),
        settings=Settings.model_validate({"retry": {"max_retries": 0}}),
        session="s1",
    )
    assert out.status == "crashed"
    assert "no rollout found" in out.error and "`mm sessions forget s1`" in out.error
    assert sessions().get("s1", "codex").turns == 1  # a failed turn records nothing


def test_a_session_turn_never_fails_over(fake_clis: FakeCLIs) -> None:
    fake_clis.set("gemini", exit=1, stderr="Error: not logged in")
    fake_clis.set(
        "cursor-agent", stdout=json.dumps({"type": "result", "result": "hi", "session_id": "c-1"})
    )
    env = fake_clis.env(GEMINI_API_KEY="k", CURSOR_API_KEY="k")
    [plain] = dispatch(["gemini-2.5-pro"], "q", env=env, settings=Settings())
    assert [a.provider for a in plain.attempts] == ["gemini", "agy", "cursor-agent"]  # failover
    [pinned] = dispatch(["gemini-2.5-pro"], "q", env=env, settings=Settings(), session="g")
    assert (pinned.provider, pinned.status, pinned.attempts) == ("gemini", "auth_required", [])
    assert sessions().list("g") == []


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ("grok", "grok keeps no sessions"),
        ("agy", "agy --print does not report the id"),
        ("ollama:llama3.2", "a model server keeps no conversation"),
    ],
)
def test_providers_that_cannot_resume_are_refused_before_anything_runs(
    fake_clis: FakeCLIs, spec: str, why: str
) -> None:
    fake_clis.install("grok", "agy")
    with pytest.raises(UsageError, match=why) as caught:
        dispatch([spec], "q", env=fake_clis.env(), settings=Settings(), session="x")
    assert "Sessions work with codex, gemini, cursor-agent, claude" in str(caught.value)
    assert fake_clis.calls() == []


def test_chains_twins_and_bad_names_are_refused(fake_clis: FakeCLIs) -> None:
    codex_ok(fake_clis)
    with pytest.raises(UsageError, match="fallback chain"):
        dispatch(["codex|gemini"], "q", env=fake_clis.env(), settings=Settings(), session="x")
    with pytest.raises(UsageError, match="listed twice"):
        dispatch(["codex", "codex"], "q", env=fake_clis.env(), settings=Settings(), session="x")
    with pytest.raises(UsageError, match="bad session name"):
        dispatch(["codex"], "q", env=fake_clis.env(), settings=Settings(), session="../x")
    assert fake_clis.calls() == []


def test_resume_argv_of_each_adapter() -> None:
    expected = {
        "codex": ["resume", "ID"],
        "claude": ["--resume", "ID"],
        "gemini": ["--resume", "ID"],
        "qwen": ["--resume", "ID"],
        "opencode": ["--session", "ID"],
        "copilot": ["--resume=ID"],
        "cursor-agent": ["--resume", "ID"],
        "vibe": ["--resume", "ID"],
    }
    for name in providers.CLI_NAMES:
        prov = providers.builtin(name)
        assert isinstance(prov, CliProvider)
        req = Request(prompt="p", resume="ID")
        if name not in expected:
            assert prov.resume_flag is None and prov.no_resume
            continue
        argv = list(prov.build(req, {}, name).argv)
        tail = expected[name]
        assert any(argv[i : i + len(tail)] == tail for i in range(len(argv))), (name, argv)
        assert "ID" not in prov.build(Request(prompt="p"), {}, name).argv
        if name == "codex":  # a subcommand: after exec's options, before the stdin marker
            assert argv[1] == "exec" and argv[-3:] == ["resume", "ID", "-"]


def test_mm_ask_session_and_mm_sessions(
    fake_clis: FakeCLIs, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    codex_ok(fake_clis)
    for key, value in fake_clis.env().items():
        monkeypatch.setenv(key, value)
    for turn in (1, 2):
        code, out, _ = run_mm(
            capsys, "ask", "--models", "codex", "--session", "work", "--prompt", "hi"
        )
        assert code == 0 and json.loads(out)[0]["metadata"]["session"]["turn"] == turn
    code, out, _ = run_mm(capsys, "sessions")
    assert code == 0 and "work" in out and THREAD in out and "codex" in out
    code, out, _ = run_mm(capsys, "sessions", "list", "work", "--format", "json")
    assert json.loads(out)[0]["turns"] == 2
    code, out, _ = run_mm(capsys, "sessions", "forget", "work")
    assert code == 0 and "forgot 1 conversation" in out
    code, _, err = run_mm(capsys, "sessions", "forget", "work")
    assert code == 2 and err.strip() == "mm: no session 'work' (see `mm sessions`)"
    code, _, err = run_mm(capsys, "ask", "--models", "grok", "--session", "w", "--prompt", "hi")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "grok keeps no sessions" in err


def test_a_turn_is_recorded_only_over_the_state_it_started_from(fake_clis: FakeCLIs) -> None:
    codex_ok(fake_clis)
    dispatch(["codex"], "one", env=fake_clis.env(), settings=Settings(), session="race")
    store = sessions()
    start = store.get("race", "codex")
    assert start is not None
    later = replace(start, turns=2, updated=start.updated + 1)
    assert not store.save(replace(start, native_id="y"), None)  # a racing first turn
    assert store.save(later, start)  # the first of two concurrent turns to finish
    assert not store.save(replace(start, turns=2, native_id="other"), start)  # the second
    assert store.get("race", "codex").turns == 2
    store.forget("race")
    assert not store.save(replace(later, turns=3), later)  # a forget is not undone
    assert store.list("race") == []


def test_an_unusable_state_store_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("MULTI_MODEL_HOME", str(blocker))
    code, _, err = run_mm(capsys, "sessions")
    assert code == 2 and err.startswith("mm: sessions need the state store")
    assert len(err.strip().splitlines()) == 1
