"""README's CLI reference matches the parser: its command table is `mm --help`'s lines, and
every flag its usage blocks show exists on that command's `--help` page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from multi_model.commands import COMMANDS, SUBCOMMANDS
from tests.conftest import run_mm

README = Path(__file__).resolve().parents[2] / "README.md"
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z-]*")


def readme_table() -> list[tuple[str, str]]:
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- commands:start -->")[1].split("<!-- commands:end -->")[0]
    rows = [line.split(" | ") for line in block.strip().splitlines()[2:]]
    return [(cmd.strip("| `"), what.rstrip(" |")) for cmd, what in rows]


def parser_table() -> list[tuple[str, str]]:
    rows = [(f"mm {name}", text) for name, (_, text) in COMMANDS.items()]
    for name, (words, _) in SUBCOMMANDS.items():
        rows += [(f"mm {name} {w}", text) for w, text in words.items() if text]
    return rows


def test_the_readme_command_table_is_the_parsers() -> None:
    assert readme_table() == parser_table()


def usage_lines() -> list[str]:
    """Lines of README code blocks that start a `mm` command (continuations joined)."""
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```\w*\n(.*?)```", text, flags=re.S)
    found = []
    for block in blocks:
        for line in block.splitlines():
            line = line.removeprefix("scripts/")
            if line.startswith("mm "):
                found.append(line)
            elif line.startswith(" ") and found and found[-1].startswith("mm "):
                found[-1] += " " + line.strip()
    return found


def page_of(line: str) -> list[str]:
    words = line.split()[1:3]
    if words[0] in SUBCOMMANDS and len(words) > 1 and words[1] in SUBCOMMANDS[words[0]][0]:
        return words
    return words[:1]


@pytest.mark.parametrize("line", usage_lines())
def test_every_flag_in_a_usage_block_exists(capsys, line: str) -> None:
    page = page_of(line)
    if page[0] not in COMMANDS:
        pytest.skip(f"not a command line: {line}")
    code, help_text, _ = run_mm(capsys, *page, "--help")
    assert code == 0
    code_part = line.split("#")[0]
    missing = [f for f in FLAG.findall(code_part) if f not in help_text]
    assert not missing, f"{' '.join(page)}: {missing}"
