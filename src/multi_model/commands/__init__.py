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
    "mcp": ("mcp", "the MCP server on stdio, for Claude Code, Codex, Gemini and Qwen"),
    "completion": ("completion", "shell completion script for bash, zsh or fish"),
}

# the words of `mm council <step>`, `mm review <control>` and `mm mcp <action>`, with their
# one-line help
COUNCIL_STEPS: dict[str, str] = {
    "prepare": "a fresh path for the question, for a host that writes it with a file tool",
    "start": "create a run: CLI seats answer in the background, Claude seats get a task each",
    "next": "the host's one step: take the run as far as it goes, say what to do now",
    "submit": "a Claude seat's answer, ballot or synthesis",
    "rank": "once the answers are in: the blind peer review",
    "synthesize": "once the ballots are in: tally and chairman",
    "result": "once the synthesis is in: the merged result and report",
    "status": "where a run is, seat by seat",
    "show": "re-render a past run's report (one-shot or hosted)",
    "list": "past runs: date, question, winner, seats",
}
REVIEW_CONTROLS: dict[str, str] = {
    "on": "review Claude's edits in this project as they happen (mode edit)",
    "off": "stop reviewing Claude's edits in this project",
    "mode": "set the mode: off, stop (at Stop), edit (as edits happen)",
    "status": "mode and where it came from, pending edits and findings of a session",
    "_watch": "",  # started by the hooks; not listed
}
MCP_ACTIONS: dict[str, str] = {
    "install": "write (or print) an MCP client's config entry for `mm mcp`",
}

# help page (its program name) -> example command lines, shown above the exit codes
EXAMPLES: dict[str, tuple[str, ...]] = {
    "mm": (
        "mm ask --models codex,gemini --prompt 'Is this regex safe?'",
        "mm council --demo --prompt 'Tabs or spaces?'",
        "mm detect --check-auth",
        "mm history --stats --since 7d",
    ),
    "mm ask": (
        "mm ask --models codex,gemini --prompt-file question.md",
        "git diff | mm ask --models gemini --format md",
        "mm ask --task code --prompt 'Write a sql migration' --format json > answers.json",
    ),
    "mm detect": ("mm detect", "mm detect --check-auth --format json"),
    "mm config": ("mm config", "mm config --task review"),
    "mm models": ("mm models", "mm models codex --format json"),
    "mm council": (
        "mm council --prompt 'Which queue fits?' --panel codex,gemini,qwen",
        "mm council --demo --prompt 'Tabs or spaces?' --format json",
        "mm council --demo --prompt 'Tabs or spaces?' --format html --output report.html",
        "mm council start --panel codex,claude --prompt '...'; mm council next",
    ),
    "mm council prepare": ("mm council prepare",),
    "mm council start": ("mm council start --panel codex,gemini,claude --prompt-file q.md",),
    "mm council next": ("mm council next", "mm council next RUN_ID --wait 30 --format json"),
    "mm council submit": ("mm council submit --seat claude --file reply.md",),
    "mm council rank": ("mm council rank RUN_ID",),
    "mm council synthesize": ("mm council synthesize RUN_ID",),
    "mm council result": ("mm council result RUN_ID --output result.json",),
    "mm council status": ("mm council status", "mm council status RUN_ID --format json"),
    "mm council show": (
        "mm council show RUN_ID",
        "mm council show RUN_ID --format html --output report.html",
    ),
    "mm council list": ("mm council list", "mm council list --format json"),
    "mm jobs": ("mm jobs list", "mm jobs result JOB_ID"),
    "mm sessions": ("mm sessions", "mm sessions forget NAME"),
    "mm history": (
        "mm history --since 24h",
        "mm history --stats --format json",
        "mm history --costs --include-demo",
    ),
    "mm review": ("mm review", "mm review src/app.py --models codex,gemini", "mm review on"),
    "mm review on": ("mm review on", "mm review on --global"),
    "mm review off": ("mm review off",),
    "mm review mode": ("mm review mode stop",),
    "mm review status": ("mm review status", "mm review status --format json"),
    "mm completion": (
        "mm completion bash > ~/.local/share/bash-completion/completions/mm",
        "mm completion zsh > ~/.zfunc/_mm",
        "mm completion fish > ~/.config/fish/completions/mm.fish",
    ),
    "mm mcp": ("mm mcp", "mm mcp --demo"),
    "mm mcp install": (
        "mm mcp install --client claude",
        "mm mcp install --client codex --print",
        "mm mcp install --client gemini --scope project --trust",
    ),
}

# `mm <command> <word>` with one of these words is a command of its own, parsed with the
# program name `mm <command>`: name -> (words, module)
SUBCOMMANDS: dict[str, tuple[dict[str, str], str]] = {
    "council": (COUNCIL_STEPS, "council_steps"),
    "review": (REVIEW_CONTROLS, "review_control"),
    "mcp": (MCP_ACTIONS, "mcp_install"),
}
