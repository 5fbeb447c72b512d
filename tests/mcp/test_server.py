"""`mm mcp` driven by the SDK's client over stdio: every tool against the demo panel and the
fake CLIs, a council job started, polled, fetched and cancelled, hostile input."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession

from multi_model.jobs import Jobs
from multi_model.mcp_server import tools
from tests.mcp.client import text, with_server

OK = "codex/ok.exec-json.jsonl"


@pytest.fixture
def env(fake_clis) -> dict[str, str]:
    return fake_clis.env(MULTI_MODEL_HOME=os.environ["MULTI_MODEL_HOME"])


def user_config(text_: str) -> None:
    path = Path(os.environ["MULTI_MODEL_HOME"]) / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text_)


def test_default_tool_list_is_small_and_complete(env) -> None:
    async def script(s: ClientSession) -> Any:
        return (await s.list_tools()).tools

    listed = with_server(env, script, "--demo")
    names = [t.name for t in listed]
    assert names == [t.name for t in tools.TOOLS]
    size = sum(
        len(t.name) + len(t.description or "") + len(json.dumps(t.input_schema)) for t in listed
    )
    print(f"default tool list: {size} characters ({tools.size(tools.TOOLS)} compact)")
    assert size < 3000
    assert all("title" not in json.dumps(t.input_schema) for t in listed)


def test_ask_answers_in_order_with_progress_and_background_job(env) -> None:
    async def script(s: ClientSession) -> Any:
        got: list[float] = []

        async def progress(p: float, total: float | None, message: str | None) -> None:
            got.append(p)

        start = time.perf_counter()
        ask = await s.call_tool(
            "ask",
            {"models": ["gemini", "codex"], "prompt": "MCP_Q"},
            progress_callback=progress,
        )
        took = time.perf_counter() - start
        bg = await s.call_tool("ask", {"models": ["codex"], "prompt": "BG", "background": True})
        job = json.loads(text(bg))["job"]
        for _ in range(200):
            done = json.loads(text(await s.call_tool("job_result", {"job": job})))
            if "answers" in done:
                break
            await anyio.sleep(0.1)
        return ask, took, done

    ask, took, done = with_server(env, script, "--demo")
    print(f"ask round trip through the SDK client (demo panel): {took * 1000:.0f} ms")
    answers = json.loads(text(ask))["answers"]
    assert not ask.is_error
    assert [a["model"] for a in answers] == ["gemini", "codex"]
    assert all(a["status"] == "ok" and "MCP_Q" in a["text"] for a in answers)
    assert all(a["metadata"]["demo"] for a in answers)
    assert done["answers"][0]["status"] == "ok" and "BG" in done["answers"][0]["text"]


def test_council_job_started_polled_fetched_and_another_cancelled(env) -> None:
    async def script(s: ClientSession) -> Any:
        started = json.loads(text(await s.call_tool("council_start", {"question": "Q?"})))
        statuses = []
        for _ in range(600):
            row = json.loads(text(await s.call_tool("job_status", {"job": started["job"]})))
            statuses.append(row["status"])
            if row["status"] != "running":
                break
            await anyio.sleep(0.1)
        result = json.loads(text(await s.call_tool("job_result", {"job": started["job"]})))
        other = json.loads(text(await s.call_tool("council_start", {"question": "Other?"})))
        cancelled = await s.call_tool("job_cancel", {"job": other["job"]})
        after = json.loads(text(await s.call_tool("job_status", {"job": other["job"]})))
        return statuses, result, json.loads(text(cancelled)), after

    statuses, result, cancelled, after = with_server(env, script, "--demo", timeout=180)
    assert statuses[0] == "running" and statuses[-1] == "done"
    assert result["stage3_synthesis"] and len(result["stage1_responses"]) == 3
    assert cancelled["status"] == "cancelled" and after["status"] == "cancelled"


def test_cancelled_ask_stops_its_job(env, fake_clis) -> None:
    fake_clis.set("codex", fixture=OK, sleep=30)

    async def script(s: ClientSession) -> Any:
        with anyio.move_on_after(2):
            await s.call_tool("ask", {"models": ["codex"], "prompt": "slow"})
        await anyio.sleep(1.5)
        listed = await s.call_tool("history", {})
        return listed

    listed = with_server(env, script)
    assert not listed.is_error
    rows = Jobs(os.environ).list()
    assert [r["status"] for r in rows] == ["cancelled"]


def test_detect_models_history_review(env, fake_clis, tmp_path: Path) -> None:
    fake_clis.set("codex", fixture=OK)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.py").write_text("x = 1\n")
    (repo / ".env").write_text("SECRET=1\n")

    async def script(s: ClientSession) -> Any:
        return {
            name: await s.call_tool(name, args)
            for name, args in (
                ("detect", {}),
                ("models", {"provider": "codex"}),
                ("history", {"since": "1d"}),
                (
                    "review",
                    {"paths": [str(repo / "a.py"), str(repo / ".env")], "models": ["codex"]},
                ),
            )
        }

    found = with_server(env, script)
    assert not any(r.is_error for r in found.values()), {k: text(v) for k, v in found.items()}
    assert any(row["name"] == "codex" for row in json.loads(text(found["detect"]))["clis"])
    assert json.loads(text(found["models"]))["providers"][0]["provider"] == "codex"
    review = json.loads(text(found["review"]))
    assert [r["status"] for r in review["reviewers"]] == ["bad_output"]  # not findings JSON
    assert ".env" in json.dumps(review) and len(fake_clis.calls("codex")) >= 1
    sent = json.dumps([c["stdin"] for c in fake_clis.calls("codex")])
    assert "SECRET=1" not in sent


def test_hostile_client_gets_clean_errors_and_the_server_keeps_serving(env) -> None:
    user_config('[policy]\nblock = ["gemini"]\n')

    async def script(s: ClientSession) -> Any:
        calls = [
            ("nope", {}),
            ("ask", {"models": "codex", "prompt": 3}),
            ("ask", {"models": ["codex"], "prompt": "x" * 10_000_000}),
            ("ask", {"models": ["claude:opus"], "prompt": "hi"}),
            ("ask", {"models": ["gemini"], "prompt": "hi"}),
            ("job_status", {"job": "../../etc"}),
            ("job_result", {"job": "20990101-000000-abcdef"}),
        ]
        results = [await s.call_tool(name, args) for name, args in calls]
        alive = await s.call_tool("models", {})
        return results, alive

    results, alive = with_server(env, script)
    messages = [text(r) for r in results]
    assert all(r.is_error for r in results), messages
    assert all(m.startswith("mm: ") and "\n" not in m and len(m) < 600 for m in messages)
    assert "unknown tool 'nope'" in messages[0]
    assert "models: Input should be a valid list" in messages[1]
    assert "prompt: String should have at most 1000000 characters" in messages[2]
    assert "is a Claude model" in messages[3]
    assert "policy.block lists gemini" in messages[4]
    assert "job_status" not in messages[5] and "pattern" in messages[5]
    assert "no job" in messages[6]
    assert not alive.is_error


def test_named_model_tool_asks_its_model(env, fake_clis) -> None:
    fake_clis.set("codex", fixture=OK)
    user_config(
        '[mcp.tools.ask_fast]\nmodel = "codex:gpt-5.4"\ndescription = "Quick second opinions."\n'
    )

    async def script(s: ClientSession) -> Any:
        listed = {t.name: t for t in (await s.list_tools()).tools}
        return listed, await s.call_tool("ask_fast", {"prompt": "NAMED_Q"})

    listed, answer = with_server(env, script)
    assert listed["ask_fast"].description == "Quick second opinions."
    assert set(listed["ask_fast"].input_schema["properties"]) == {"prompt", "timeout"}
    assert not answer.is_error, text(answer)
    assert json.loads(text(answer))["text"] == "MOCK_OK: hello from the mock model"
    assert any("NAMED_Q" in (c["stdin"] or "") for c in fake_clis.calls("codex"))
