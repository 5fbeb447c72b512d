"""Argv injection: a model id from a config file or `--models` can never reach a CLI's argv
as a flag of its own, for every adapter in the registry (issue 14, class 3)."""

from __future__ import annotations

import pytest

import multi_model
from multi_model import cli, providers
from multi_model.config import EndpointSettings, Settings
from multi_model.errors import UsageError
from multi_model.models import Request
from multi_model.providers.base import CliProvider
from tests.conftest import FakeCLIs, run_mm

INJECTED = [
    "--agent=build",
    "--yolo",
    "--approval-mode=yolo",
    "--allow-all-tools",
    "--force",
    "-y",
    "--dangerously-skip-permissions",
    "gpt-5 --yolo",
    "gpt-5\n--yolo",
    "",
]
FLAGS = [m for m in INJECTED if m.startswith("-")]
ENDPOINT = Settings(endpoints={"lab": EndpointSettings(base_url="http://127.0.0.1:9/v1")})
EVERY = [*providers.NAMES, "lab"]
CLIS = [n for n in providers.NAMES if isinstance(providers.builtin(n), CliProvider)]
IN_ARGV = [n for n in CLIS if n != "vibe"]  # vibe takes its model in an env var


@pytest.mark.parametrize("model", INJECTED)
def test_a_request_refuses_a_model_id_that_is_not_a_strict_token(model: str) -> None:
    with pytest.raises(ValueError):
        Request(prompt="p", model=model)


def _unchecked(model: str) -> Request:
    """A Request whose model skipped the check, as if a future path forgot it."""
    req = Request(prompt="p", model="placeholder")
    object.__setattr__(req, "model", model)
    return req


@pytest.mark.parametrize("flag", FLAGS)
@pytest.mark.parametrize("name", IN_ARGV)
def test_every_adapter_passes_the_model_as_one_word(name: str, flag: str) -> None:
    """Even past the check, the model is the value of `--model=`, never a word of its own."""
    adapter = providers.builtin(name)
    assert isinstance(adapter, CliProvider)
    inv = adapter.build(_unchecked(flag), {}, name)
    assert flag not in inv.argv[1:]


@pytest.mark.parametrize("flag", FLAGS)
@pytest.mark.parametrize("name", EVERY)
def test_dispatch_refuses_an_injected_model_before_anything_runs(
    name: str, flag: str, fake_clis: FakeCLIs
) -> None:
    for fake in CLIS:
        fake_clis.set(fake, stdout="{}")
    with pytest.raises(UsageError, match="model"):
        multi_model.dispatch([f"{name}:{flag}"], "p", settings=ENDPOINT, env=fake_clis.env())
    assert not [c for c in fake_clis.calls() if c["argv"][:1] != ["--version"]]


@pytest.mark.parametrize("name", CLIS)
def test_mm_ask_exits_2_and_the_fake_cli_never_sees_the_flag(
    name: str,
    fake_clis: FakeCLIs,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_clis.set(name, stdout="{}")
    for key, value in fake_clis.env().items():
        monkeypatch.setenv(key, value)
    code, out, err = run_mm(capsys, "ask", "--models", f"{name}:--yolo", "--prompt", "p")
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1 and "--yolo" in err
    assert not [c for c in fake_clis.calls() if "--yolo" in " ".join(c["argv"])]


@pytest.mark.parametrize("models", [",,", " , ", ",", "codex,,gemini", "codex, "])
def test_empty_model_entries_are_a_usage_error(
    models: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_mm(capsys, "ask", "--models", models, "--prompt", "p")
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1 and "empty entry" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["council", "--panel", ",,", "--prompt", "q"],
        ["council", "start", "--panel", "codex,,gemini", "--prompt", "q"],
        ["review", "--models", " , ", "x.py"],
    ],
)
def test_empty_panel_and_reviewer_entries_are_a_usage_error(argv: list[str], capsys) -> None:  # type: ignore[no-untyped-def]
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code == 2 and "empty entry" in err and err.count("\n") == 1, err
