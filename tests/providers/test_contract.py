"""Contract checks over the whole registry: every CLI adapter, present and future, gets them.

- the prompt reaches the CLI exactly once and unchanged (stdin, argv or prompt file);
- the default invocation is read-only, and write mode is a different invocation;
- no CLI sees another vendor's keys or Claude Code's session markers;
- through the real pipeline: missing binary -> not_installed, hang -> timeout with the
  group stopped, garbage -> never ok.
"""

from __future__ import annotations

import pytest

from multi_model import dispatch
from multi_model.config import ProviderSettings, Settings
from multi_model.models import PROMPT_FILE, Request
from multi_model.providers import CLI_NAMES, builtin
from tests.conftest import FakeCLIs

PROMPT = "  Compare A and B.\n\nKeep   this spacing. é ✓\n"
WRITE_FLAGS = {
    "--yolo",
    "-y",
    "--dangerously-bypass-approvals-and-sandbox",
    "--dangerously-skip-permissions",
    "--allow-all-tools",
    "--allow-all",
    "--force",
    "auto_edit",
    "auto-edit",
    "workspace-write",
    "accept-edits",
    "acceptEdits",
    "bypassPermissions",
    "--auto",
}
VENDOR_KEYS = {  # key -> the providers allowed to see it
    "OPENAI_API_KEY": {"codex", "qwen"},
    "ANTHROPIC_API_KEY": {"claude"},
    "GEMINI_API_KEY": {"gemini"},
    "GOOGLE_API_KEY": {"gemini"},
    "CURSOR_API_KEY": {"cursor-agent"},
    "GROK_API_KEY": {"grok"},
    "XAI_API_KEY": {"grok"},
    "MISTRAL_API_KEY": {"vibe"},
    "GH_TOKEN": {"copilot"},
    "GITHUB_TOKEN": {"copilot"},
    "DASHSCOPE_API_KEY": {"qwen"},
    "OPENCODE_API_KEY": {"opencode"},
    "CLAUDECODE": set(),
    "CLAUDE_CODE_SESSION_ID": set(),
    "AWS_SECRET_ACCESS_KEY": set(),
}


def deliveries(name: str, req: Request) -> int:
    inv = builtin(name).build(req, {"PATH": "/bin"}, f"/bin/{name}")
    in_argv = sum(PROMPT in a for a in inv.argv)
    return (
        in_argv
        + (inv.stdin == PROMPT)
        + (inv.prompt_file == PROMPT and PROMPT_FILE in " ".join(inv.argv))
    )


@pytest.mark.parametrize("name", CLI_NAMES)
def test_prompt_is_delivered_exactly_once_unchanged(name: str) -> None:
    assert deliveries(name, Request(prompt=PROMPT, model="some-model")) == 1


@pytest.mark.parametrize("name", [n for n in CLI_NAMES if builtin(n).read_only])
def test_default_invocation_is_read_only(name: str) -> None:
    prov = builtin(name)
    read = prov.build(Request(prompt="p"), {"PATH": "/bin"}, name)
    write = prov.build(Request(prompt="p", allow_writes=True), {"PATH": "/bin"}, name)
    assert not WRITE_FLAGS & set(read.argv)
    assert (read.argv, dict(read.env)) != (write.argv, dict(write.env))


@pytest.mark.parametrize("name", [n for n in CLI_NAMES if not builtin(n).read_only])
def test_cli_without_read_only_mode_is_refused_unless_writes_are_allowed(
    fake_clis: FakeCLIs, name: str
) -> None:
    fake_clis.install(name)
    [r] = dispatch([f"{name}:m"], "q", settings=Settings(), env=fake_clis.env())
    assert r.status == "refused" and "allow_writes" in (r.error or "")
    assert fake_clis.calls(name) == []


@pytest.mark.parametrize("name", CLI_NAMES)
def test_no_cli_sees_another_vendors_keys(name: str) -> None:
    prov = builtin(name)
    parent = {"PATH": "/bin", "HOME": "/h", **dict.fromkeys(VENDOR_KEYS, "secret")}
    env = prov.build(Request(prompt="p"), prov.env_for(parent), name).env
    leaked = {k for k in VENDOR_KEYS if k in env and name not in VENDOR_KEYS[k]}
    assert not leaked


@pytest.mark.parametrize("name", CLI_NAMES)
def test_every_adapter_has_hints_and_a_rate_bucket(name: str) -> None:
    prov = builtin(name)
    assert prov.install_hint and prov.login_hint and prov.rate_bucket and prov.executables


def everyone() -> tuple[list[str], Settings]:
    # grok has no read-only mode: it runs only with writes allowed
    return (
        [f"{n}:m" for n in CLI_NAMES],
        Settings(allow_claude_cli=True, providers={"grok": ProviderSettings(allow_writes=True)}),
    )


def test_missing_binaries_are_not_installed(fake_clis: FakeCLIs) -> None:
    specs, settings = everyone()
    for r in dispatch(specs, "q", settings=settings, env=fake_clis.env()):
        assert r.status == "not_installed" and "install" in (r.error or ""), r.provider


def test_hanging_clis_time_out_in_parallel(fake_clis: FakeCLIs) -> None:
    specs, settings = everyone()
    for name in CLI_NAMES:
        fake_clis.set(name, mode="hang")
    results = dispatch(specs, "q", settings=settings, env=fake_clis.env(), timeout=1.0)
    assert [r.status for r in results] == ["timeout"] * len(CLI_NAMES)
    assert max(r.duration_s for r in results) < 5


def test_garbage_is_never_ok_from_a_structured_cli(fake_clis: FakeCLIs) -> None:
    specs, settings = everyone()
    structured = [s for s in specs if builtin(s.split(":")[0]).structured]
    assert len(structured) >= len(specs) - 1  # only plain-text agy is exempt
    for name in CLI_NAMES:
        fake_clis.set(name, stdout="\x1b[31m<html>502 Bad Gateway</html>\x1b[0m\n")
    for r in dispatch(structured, "q", settings=settings, env=fake_clis.env()):
        assert r.status != "ok", (r.provider, r.text)
