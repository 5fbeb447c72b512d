"""`mm` command line: assemble the parser, run one command, map the outcome to an exit code.

Each command is a module in `commands/` (`add_arguments`, `run`); only the module of the
command that runs is imported. The exit codes are decided in `commands/exits.py`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn, Protocol, cast

from multi_model import __version__
from multi_model.commands import COMMANDS, EXAMPLES, SUBCOMMANDS, exits
from multi_model.errors import MultiModelError
from multi_model.util.signals import sigterm_interrupts


class Command(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


class _Parser(argparse.ArgumentParser):
    """Every page ends with its examples (`EXAMPLES`, by program name) and the exit codes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)
        if self.epilog is None:
            self.epilog = help_epilog(self.prog)

    def error(self, message: str) -> NoReturn:  # one line, exit 2, as documented
        self.exit(exits.Exit.USAGE, f"{self.prog}: error: {message}\n")


def help_epilog(prog: str, words: Mapping[str, str] | None = None) -> str:
    """A help page's end: `words` (a command's steps), its examples, the exit codes."""
    parts = []
    if words:
        listed = {w: text for w, text in words.items() if text}
        width = max(map(len, listed))
        steps = "".join(f"  {prog} {w:<{width}}  {text}\n" for w, text in listed.items())
        parts.append(f"commands of their own (each has --help):\n{steps}")
    if prog in EXAMPLES:
        parts.append("examples:\n" + "".join(f"  {line}\n" for line in EXAMPLES[prog]))
    return "\n".join([*parts, exits.epilog()])


def load(module: str) -> Command:
    # the one lazy import: a command's module (and what it needs) loads only when it runs
    return cast(Command, importlib.import_module(f"multi_model.commands.{module}"))


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """`mm`'s parser: every command listed, the arguments of `command` (the one that runs)."""
    steps = {f"{name} {w}": t for name, (ws, _) in SUBCOMMANDS.items() for w, t in ws.items()}
    parser = _Parser(
        prog="mm",
        description="Ask other AI models through their own CLIs.",
        epilog=help_epilog("mm", steps),
    )
    parser.add_argument("--version", action="version", version=f"multi-model {__version__}")
    sub = parser.add_subparsers(
        dest="command", required=True, parser_class=_Parser, metavar="COMMAND"
    )
    for name, (module, text) in COMMANDS.items():
        words = SUBCOMMANDS.get(name, ({}, ""))[0]
        p = sub.add_parser(
            name, help=text, description=text, epilog=help_epilog(f"mm {name}", words)
        )
        if name == command:
            load(module).add_arguments(p)
    return parser


def parse(argv: list[str]) -> tuple[Command, argparse.Namespace]:
    """The command that runs and its arguments; argparse exits 2 on bad ones."""
    head, word = [*argv, "", ""][:2]
    words, module = SUBCOMMANDS.get(head, ((), ""))
    if word in words:  # `mm council next`, `mm review on`: a command of its own
        command = load(module)
        parser = _Parser(prog=f"mm {head}")
        command.add_arguments(parser)
        return command, parser.parse_args(argv[1:])
    args = build_parser(head).parse_args(argv)
    return load(COMMANDS[args.command][0]), args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    with sigterm_interrupts():  # the same clean stop as Ctrl-C
        return _main(argv)


def _main(argv: list[str]) -> int:
    if not argv:  # no command: the usage, and USAGE (exits.py says why)
        build_parser().print_help(sys.stderr)
        return int(exits.Exit.USAGE)
    command, args = parse(argv)
    try:
        return int(command.run(args))
    except MultiModelError as exc:
        print(f"mm: {exc}", file=sys.stderr)
        return int(exits.of_error(exc))
    except KeyboardInterrupt:
        print("mm: interrupted", file=sys.stderr)
        return int(exits.Exit.INTERRUPTED)


def main_ask() -> int:
    return main(["ask", *sys.argv[1:]])


def main_detect() -> int:
    return main(["detect", *sys.argv[1:]])


def main_council() -> int:
    return main(["council", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
