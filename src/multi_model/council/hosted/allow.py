"""What the plugin pre-approves (stdlib only: a PreToolUse hook runs it): the council's own
step, and a Claude seat's Read of its task's prompt file.

A council's Claude seats may run in the background; their replies then reach the host in a
later turn, where the slash command's `allowed-tools` no longer apply, and the run folder may
be anywhere MULTI_MODEL_HOME or XDG_DATA_HOME put it, where no static grant reaches. So the
Read of a task prompt (`<runs>/<run>/tasks/<stage>/<seat>.prompt.md`, the real file, no link)
is allowed, and the only command the host needs, the council's own step:

    <plugin root>/scripts/mm council next <run dir> --format json [--wait N]

as one canonical shell word list (what `shlex.join` prints: no operator, substitution,
redirection or second command can hide in it), with this plugin's own launcher (from this
file's location, never from the payload or the environment) and the directory of a run that
exists under this user's runs folder. Anything else gets no decision from this hook: Claude
Code asks or refuses as it would without the plugin.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

from multi_model.council.store import RunStore
from multi_model.paths import LAUNCHER, data_dir

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

WAIT = re.compile(r"[0-9]{1,3}")  # ASCII digits only (str.isdigit takes '²' and Arabic-Indic)
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,80}")
REASON = "multi-model: the council's own next step (run {run})"
READ_REASON = "multi-model: a council seat reads its task (run {run})"


def decision(event: Mapping[str, object], env: Mapping[str, str]) -> dict[str, object] | None:
    """The PreToolUse answer for one Bash or Read call: allow for the council step or a
    task prompt, else None (no decision)."""
    tool_input = event.get("tool_input")
    if event.get("hook_event_name") != "PreToolUse" or not isinstance(tool_input, dict):
        return None
    tool, run = event.get("tool_name"), None
    if tool_input.get("dangerouslyDisableSandbox"):
        return None  # never pre-approve leaving the sandbox
    if tool == "Bash" and isinstance(tool_input.get("command"), str):
        run = council_step_run(tool_input["command"], env)
    elif tool == "Read" and isinstance(tool_input.get("file_path"), str):
        run = task_prompt_run(tool_input["file_path"], env)
    if run is None:
        return None
    reason = (REASON if tool == "Bash" else READ_REASON).format(run=run)
    return {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "allow",
            "permissionDecisionReason": reason,
        }
    }


def task_prompt_run(file_path: str, env: Mapping[str, str]) -> str | None:
    """The run id when `file_path` is a task prompt file of one of this user's runs."""
    path = Path(file_path)
    if not path.is_absolute() or os.path.realpath(file_path) != file_path:
        return None
    found = RunStore.task_of_prompt(path)
    if found is None or not path.is_file() or path.stat().st_nlink != 1:
        return None  # a hard link would make any file on the disk a "task prompt"
    return _run_id(str(found[0]), env)


def council_step_run(command: str, env: Mapping[str, str]) -> str | None:
    """The run id when `command` is exactly a council step of this plugin, else None."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if shlex.join(words) != command:
        return None  # not canonical: quoting tricks, extra spaces, comments, operators
    shape = words[1:3] == ["council", "next"] and words[4:6] == ["--format", "json"]
    wait = words[6:] == [] or (
        words[6:7] == ["--wait"] and len(words) == 8 and WAIT.fullmatch(words[7]) is not None
    )
    if words[:1] != [str(LAUNCHER)] or len(words) < 6 or not shape or not wait:
        return None
    return _run_id(words[3], env)


def _run_id(run_dir: str, env: Mapping[str, str]) -> str | None:
    """The run's id if `run_dir` is a run folder of this user's (absolute, no links)."""
    runs = os.path.realpath(data_dir(env) / "runs")
    path = Path(run_dir)
    if not path.is_absolute() or os.path.realpath(run_dir) != run_dir:
        return None
    if str(path.parent) != runs or not RUN_ID.fullmatch(path.name):
        return None
    return path.name if (path / "plan.json").is_file() else None
