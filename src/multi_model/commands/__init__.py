"""The `mm` commands, one module each: `add_arguments(parser)` builds its flags, `run(args)`
does the work and returns an exit code (decided in `exits`).

This package's top level imports nothing: `cli` reads the tables below to build `mm --help`
and imports only the module of the command that runs.
"""

from __future__ import annotations

# name -> (module under multi_model.commands, help); the order is `mm --help`'s
COMMANDS: dict[str, tuple[str, str]] = {
    "ask": ("ask", "send one prompt to several models in parallel"),
    "detect": ("detect", "which model CLIs are installed and logged in"),
    "config": ("config", "resolved settings and where each value comes from"),
    "models": ("models", "models each provider offers"),
    "council": (
        "council",
        "blind peer-ranked council: answers, anonymous ranking, chairman synthesis",
    ),
    "jobs": ("jobs", "background jobs: list, status, result, cancel"),
    "sessions": ("sessions", "conversations kept by `mm ask --session`"),
    "history": ("history", "recorded calls: list, per-provider stats, costs"),
    "review": (
        "review",
        "other models review the working tree's change (git diff HEAD) or the named files",
    ),
}

COUNCIL_STEPS = ("prepare", "start", "next", "submit", "rank", "synthesize", "result", "status")
REVIEW_CONTROLS = ("on", "off", "mode", "status", "_watch")

# `mm <command> <word>` with one of these words is a command of its own, parsed with the
# program name `mm <command>`: name -> (words, module)
SUBCOMMANDS: dict[str, tuple[tuple[str, ...], str]] = {
    "council": (COUNCIL_STEPS, "council_steps"),
    "review": (REVIEW_CONTROLS, "review_control"),
}
