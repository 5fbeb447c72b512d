"""A named model tool (`[mcp.tools.ask_local]` in the user config) backed by llama.cpp's real
server with SmolLM2: `mm mcp` answers it through the SDK's client, and through the pinned
codex, whose mock model turn calls the tool and gets the local model's answer back. Assertions
are on the pipeline (statuses, the served model, usage the server counted, the same text in
the mock's next request), never on the wisdom of the model."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mcp import ClientSession

from multi_model.demo import llama
from multi_model.jobs import Jobs
from multi_model.mcp_server import work
from tests.contract.conftest import Mock, require_cli
from tests.contract.mockserver import DONE
from tests.contract.test_mcp_clients import RUNS, client_env, install
from tests.mcp.client import text, with_server

TOOL = "ask_local"
DESCRIPTION = "A small local model, for quick private drafts."


def user_config(base_url: str) -> None:
    path = Path(os.environ["MULTI_MODEL_HOME"]) / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "max_tokens = 16\n[retry]\nmax_retries = 0\n"
        f'[endpoints.local]\nbase_url = "{base_url}"\nmodel = "{llama.MODEL}"\n'
        f'[mcp.tools.{TOOL}]\nmodel = "local:{llama.MODEL}"\ndescription = "{DESCRIPTION}"\n'
    )


def served(answer: dict[str, Any]) -> None:
    """The answer came from the local server: ok, its model, tokens it counted."""
    assert answer["status"] == "ok", answer
    assert (answer["provider"], answer["model_reported"]) == ("local", llama.MODEL)
    assert answer["text"].strip()
    assert answer["usage"]["input_tokens"] > 0 and 0 < answer["usage"]["output_tokens"] <= 16


def test_sdk_client_asks_the_local_model_by_its_tool(
    llama_server: llama.Server, tmp_path: Path
) -> None:
    user_config(llama_server.base_url)
    env = {"MULTI_MODEL_HOME": os.environ["MULTI_MODEL_HOME"], "HOME": str(tmp_path)}
    env["PATH"] = "/usr/bin:/bin"

    async def script(s: ClientSession) -> Any:
        listed = {t.name: t for t in (await s.list_tools()).tools}
        start = time.perf_counter()
        answer = await s.call_tool(TOOL, {"prompt": "Say hi in three words."})
        return listed, answer, time.perf_counter() - start

    listed, answer, took = with_server(env, script)
    print(f"{TOOL} through the SDK client (llama.cpp, SmolLM2): {took * 1000:.0f} ms")
    assert listed[TOOL].description == DESCRIPTION
    assert not answer.is_error, text(answer)
    served(json.loads(text(answer)))


def test_codex_calls_the_named_tool_and_gets_the_local_answer(
    llama_server: llama.Server, mock: Mock, shared_cache: Path, tmp_path: Path
) -> None:
    binary = require_cli("codex")
    user_config(llama_server.base_url)
    env = client_env("codex", tmp_path / "codex", mock, shared_cache)
    work_dir = tmp_path / "work"
    work_dir.mkdir()
    install("codex", env, work_dir, demo=False)
    mark = mock.mark()
    start = time.perf_counter()
    done = subprocess.run(
        [str(binary), *RUNS["codex"], "--model", "mock-mcp", "-"],
        input=f"please use your tool MOCK_MCP_TOOL={TOOL}",
        env=env,
        cwd=work_dir,
        capture_output=True,
        text=True,
        timeout=180,
    )
    took = time.perf_counter() - start
    print(f"codex: one turn calling `{TOOL}` through mm mcp (llama.cpp): {took:.1f} s")
    assert DONE in done.stdout, (done.stdout[-2000:], done.stderr[-2000:])
    [job] = Jobs(os.environ).list()
    [answer] = work.result(job["id"])
    served(answer)
    carried = [a for r in mock.since(mark) for a in answers_in(r["body"])]
    assert answer in carried, carried  # the local model's answer, in the model's next turn


def answers_in(value: object) -> Iterator[dict[str, Any]]:
    """Every answer-shaped object in a request body, JSON nested in strings included (a tool
    result is JSON text inside the client's JSON)."""
    if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
        try:
            value = json.loads(value)
        except ValueError:
            return
    if isinstance(value, dict):
        if "model_reported" in value and "status" in value:
            yield value
        for item in value.values():
            yield from answers_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from answers_in(item)
