"""Detection: binaries, versions, auth probes, all bounded and parallel."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from multi_model.config import ProviderSettings, Settings
from multi_model.detect import (
    _summary,
    availability,
    cached_version,
    detect_all,
    find_executable,
    quick_auth,
)
from multi_model.providers import builtin
from tests.conftest import FakeCLIs

codex = builtin("codex")


def by_name(infos):  # type: ignore[no-untyped-def]
    return {i.name: i for i in infos}


def test_detect_reports_path_version_and_missing(fake_clis: FakeCLIs) -> None:
    fake_clis.set("codex", version="codex-cli 0.169.0")
    infos = by_name(detect_all(Settings(), fake_clis.env()))
    assert infos["codex"].installed and infos["codex"].version == "0.169.0"
    assert infos["codex"].path == str(fake_clis.bin / "codex")
    assert not infos["gemini"].installed and "npm" in infos["gemini"].install_hint


def test_check_auth_uses_status_command(fake_clis: FakeCLIs) -> None:
    fake_clis.set("codex", auth={"stdout": "Not logged in", "exit": 1})
    info = by_name(detect_all(Settings(), fake_clis.env(), check_auth=True))["codex"]
    assert info.auth == "logged_out" and info.auth_detail == "Not logged in"
    assert ["login", "status"] in [c["argv"] for c in fake_clis.calls("codex")]


def test_check_auth_logged_in(fake_clis: FakeCLIs) -> None:
    fake_clis.set("codex", auth={"stdout": "Logged in using ChatGPT", "exit": 0})
    info = by_name(detect_all(Settings(), fake_clis.env(), check_auth=True))["codex"]
    assert info.auth == "logged_in"


def test_hanging_version_costs_one_probe_timeout(fake_clis: FakeCLIs) -> None:
    fake_clis.set("codex", version_sleep=60)
    fake_clis.install("gemini", "qwen", "opencode")
    start = time.monotonic()
    infos = by_name(detect_all(Settings(probe_timeout=1.0), fake_clis.env()))
    assert time.monotonic() - start < 8  # 1 s probe + kill grace, not 60 s
    assert infos["codex"].installed and infos["codex"].version is None
    assert "no answer" in (infos["codex"].error or "")


def test_configured_binary_wins(fake_clis: FakeCLIs, tmp_path) -> None:  # type: ignore[no-untyped-def]
    fake_clis.install("my-codex")
    settings = Settings(providers={"codex": ProviderSettings(binary="my-codex")})
    assert find_executable(codex, settings, fake_clis.env()) == str(fake_clis.bin / "my-codex")


def test_generic_agent_binary_needs_calver(fake_clis: FakeCLIs) -> None:
    cursor = builtin("cursor-agent")
    fake_clis.set("agent", version="agent 1.2.3 (some other tool)")
    assert find_executable(cursor, Settings(), fake_clis.env()) is None
    fake_clis.set("agent", version="2026.04.08-a41fba1")
    assert find_executable(cursor, Settings(), fake_clis.env()) == str(fake_clis.bin / "agent")


def test_quick_auth_from_env_and_files(fake_clis: FakeCLIs) -> None:
    assert quick_auth(codex, {"HOME": str(fake_clis.home), "OPENAI_API_KEY": "k"}) == "logged_in"
    assert quick_auth(codex, {"HOME": str(fake_clis.home)}) == "unknown"
    (fake_clis.home / ".codex").mkdir()
    (fake_clis.home / ".codex" / "auth.json").write_text("{}")
    assert quick_auth(codex, {"HOME": str(fake_clis.home)}) == "logged_in"


def test_version_is_cached_until_binary_changes(fake_clis: FakeCLIs) -> None:
    fake_clis.set("codex", version="codex-cli 1.0.0")
    env = fake_clis.env()
    exe = str(fake_clis.bin / "codex")
    assert cached_version(codex, exe, env, 5) == "1.0.0"
    assert cached_version(codex, exe, env, 5) == "1.0.0"
    assert len([c for c in fake_clis.calls("codex") if c["argv"] == ["--version"]]) == 1
    fake_clis.install("codex")  # rewritten binary: new mtime/size
    (fake_clis.bin / "codex").write_text((fake_clis.bin / "codex").read_text() + "\n# v2\n")
    fake_clis.set("codex", version="codex-cli 2.0.0")
    assert cached_version(codex, exe, env, 5) == "2.0.0"


def test_availability_reports_install_and_cheap_auth(fake_clis: FakeCLIs) -> None:
    fake_clis.install("codex")
    check = availability(Settings(), fake_clis.env(OPENAI_API_KEY="k"))
    assert check("codex") == "logged_in"
    assert check("gemini") is None
    assert check("nosuch") is None


def test_parallel_first_probes_all_land_in_the_version_cache(fake_clis: FakeCLIs) -> None:
    names = ["codex", "gemini", "qwen", "opencode"]
    for name in names:
        fake_clis.set(name, version=f"{name} 1.2.3")
    env = fake_clis.env()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda n: cached_version(builtin(n), str(fake_clis.bin / n), env, 5), names))
    for name in names:  # second round: every answer comes from the cache
        assert cached_version(builtin(name), str(fake_clis.bin / name), env, 5) == "1.2.3"
        assert len([c for c in fake_clis.calls(name) if c["argv"] == ["--version"]]) == 1


def test_probe_detail_is_one_clean_line(fake_clis: FakeCLIs) -> None:
    assert (
        _summary('{"loggedIn": false, "authMethod": "none"}', 1)
        == "loggedIn=False, authMethod=none"
    )
    assert (
        _summary("\x1b[90m┌  Credentials \x1b[90m~/.local/auth.json\x1b[0m\n│\n", 0)
        == "Credentials ~/.local/auth.json"
    )
    assert _summary("", 3) == "exit 3"
    assert _summary("WARNING: could not create PATH aliases\nNot logged in\n", 1) == "Not logged in"
