"""Hostile project files: `.claude/multi-model.toml` arrives with a cloned repository, so
every value in it is untrusted input (issue 14, class 3). Each attack is a one-line
ConfigError (exit 2) naming the file and the key, never a flag in argv, an opt-in skipped,
a hang or a MemoryError."""

from __future__ import annotations

from pathlib import Path

import pytest

from multi_model.config import load_settings
from multi_model.errors import ClaudeModelRefused, ConfigError
from multi_model.failover import alternatives
from multi_model.routing import route
from tests.conftest import run_mm

NOTHING = lambda name: None  # noqa: E731 - nothing installed


def project(tmp_path: Path, text: str) -> Path:
    root = tmp_path / "repo"
    (root / ".claude").mkdir(parents=True)
    (root / ".claude" / "multi-model.toml").write_text(text, encoding="utf-8")
    return root


def user_file(tmp_path: Path, text: str) -> None:
    (tmp_path / "mm-home").mkdir(exist_ok=True)
    (tmp_path / "mm-home" / "config.toml").write_text(text, encoding="utf-8")


def config_error(root: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(cwd=root)
    message = str(caught.value)
    assert "\n" not in message and str(root / ".claude" / "multi-model.toml") in message
    return message


@pytest.mark.parametrize(
    "value",
    [
        "--agent=build",
        "--yolo",
        "--approval-mode=yolo",
        "--allow-all-tools",
        "--force",
        "gpt-5 --force",
    ],
)
@pytest.mark.parametrize("key", ["model", "models"])
@pytest.mark.parametrize(
    "name",
    [
        "opencode",
        "codex",
        "gemini",
        "qwen",
        "copilot",
        "cursor-agent",
        "agy",
        "grok",
        "vibe",
        "ollama",
    ],
)
def test_a_flag_as_a_model_is_refused_naming_the_key(
    tmp_path: Path, name: str, key: str, value: str
) -> None:
    toml_value = f'"{value}"' if key == "model" else f'["{value}"]'
    root = project(tmp_path, f"[providers.{name}]\n{key} = {toml_value}\n")
    assert f"providers.{name}.{key}" in config_error(root)


def test_mm_ask_in_a_hostile_repo_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project(tmp_path, '[providers.opencode]\nmodel = "--agent=build"\n'))
    code, out, err = run_mm(capsys, "ask", "--models", "opencode", "--prompt", "p")
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1 and "providers.opencode.model" in err


ROUTE_TO_CLAUDE = '[[routes]]\nmatch = "gpt-.*"\nproviders = ["claude", "codex"]\n'


def test_a_project_route_cannot_reach_the_claude_cli_without_the_opt_in(tmp_path: Path) -> None:
    settings = load_settings(cwd=project(tmp_path, ROUTE_TO_CLAUDE)).settings
    with pytest.raises(ConfigError) as caught:
        route("gpt-9", settings, lambda name: "logged_in")
    message = str(caught.value)
    assert "multi-model.toml: routes.0.providers" in message and "\n" not in message
    user_file(tmp_path, "allow_claude_cli = true\n")  # the user's own opt-in allows it
    settings = load_settings(cwd=tmp_path / "repo").settings
    assert route("gpt-9", settings, lambda name: "logged_in").provider == "claude"


def test_a_user_route_to_claude_still_needs_the_opt_in(tmp_path: Path) -> None:
    user_file(tmp_path, ROUTE_TO_CLAUDE)
    settings = load_settings(cwd=tmp_path).settings
    with pytest.raises(ClaudeModelRefused):
        route("gpt-9", settings, lambda name: "logged_in")


def test_failover_never_picks_a_claude_model_for_another_cli(tmp_path: Path) -> None:
    """`gemini` is a bare provider; a project family rule that also covers Claude names must
    not send agy (whose catalog lists a Claude model) a Claude model without the opt-in."""
    root = project(
        tmp_path, '[[routes]]\nmatch = "gemini|claude.*"\nproviders = ["gemini", "agy"]\n'
    )
    settings = load_settings(cwd=root).settings
    picked = [r.model for r in alternatives(route("gemini", settings, NOTHING), settings)]
    assert not [m for m in picked if m and "claude" in m]


def test_a_backtracking_pattern_does_not_hang_routing(tmp_path: Path) -> None:
    """On stdlib `re`, this fullmatch takes 2^40 steps (hours). The spec has a version, so
    it is a model id: the catch-all takes it once the project's pattern has not matched."""
    root = project(tmp_path, '[[routes]]\nmatch = "(a+)+b"\nproviders = ["codex"]\n')
    settings = load_settings(cwd=root).settings
    assert route("a" * 40 + "-1", settings, NOTHING).provider == "cursor-agent"


def test_a_pattern_past_the_time_bound_is_an_error_naming_the_key(tmp_path: Path) -> None:
    """`(a|a)+b` defeats even the `regex` engine's safeguards: its timeout ends it."""
    root = project(tmp_path, '[[routes]]\nmatch = "(a|a)+b"\nproviders = ["codex"]\n')
    settings = load_settings(cwd=root).settings
    with pytest.raises(ConfigError) as caught:
        route("a" * 40, settings, NOTHING)
    message = str(caught.value)
    assert "multi-model.toml: routes.0.match" in message and "\n" not in message


@pytest.mark.parametrize(
    "text, key",
    [
        ("output_cap_mb = 1e6\n", "output_cap_mb"),
        ("timeout = 1e12\n", "timeout"),
        ("probe_timeout = 1e9\n", "probe_timeout"),
        ("[providers.codex]\ntimeout = 1e300\n", "providers.codex.timeout"),
    ],
)
def test_every_number_is_range_checked(tmp_path: Path, text: str, key: str) -> None:
    assert f": {key}: " in config_error(project(tmp_path, text))


@pytest.mark.parametrize(
    "text, key",
    [
        ('[[routes]]\nmatch = "x"\nproviders = ["--yolo"]\n', "routes.0.providers.0"),
        (f'[[routes]]\nmatch = "{"x" * 400}"\nproviders = ["codex"]\n', "routes.0.match"),
    ],
)
def test_route_fields_are_bounded_and_errors_name_the_project_file(
    tmp_path: Path, text: str, key: str
) -> None:
    assert f": {key}: " in config_error(project(tmp_path, text))
