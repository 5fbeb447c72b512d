"""The council's run directory: every prompt, raw reply, ballot and result as a file. This
module owns every path in it; everything else asks RunStore for a name.

    <data dir>/runs/<run id>/
      run.json                       question, seats, chairman, seed, settings of the run
      stage1/<seat>.json             each seat's Response
      stage2/<reviewer>.prompt.md    the prompt that reviewer saw (its own shuffle)
      stage2/<reviewer>.raw-<n>.txt  its reply to try n
      stage2/<reviewer>.json         its BallotRecord
      stage3/prompt.md, stage3/raw-<n>.txt, stage3/synthesis.json
      stage3/failed.json             no chairman wrote a synthesis (the CLI chairmen's errors)
      result.json, report.md, report.html

A hosted run (`mm council start`, council/hosted/) adds:
      plan.json                          seats and their kind, settings, when each stage opened
      tasks/<stage>/<seat>.prompt.md     what a Claude seat must answer (stage: answer,
      tasks/<stage>/<seat>.md | .json    review, synthesis) and the file it writes (.json for
      tasks/<stage>/<seat>.state.json    a ballot); its attempt and why the last was rejected;
      tasks/<stage>/<seat>.capture.json  how the reply was taken from Claude Code's hooks;
      tasks/<stage>/<seat>.issued.json   when its Agent call was last handed to the host
      workers/<stage>.lock | .pid | .log the stage's background worker (holds the lock while
                                         alive)
      stage3/raw-agent.txt               a Claude chairman's synthesis as submitted
      stage3/agent-failed.json           a Claude chairman that went missing
      failed.json | cancelled.json       why the run ended without a result (quorum; cancel)
      step.lock                          one step at a time per run

Files are written atomically (temp file + rename) as each piece finishes, so killing the
process loses nothing already done, and a stage re-run finds what exists.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from multi_model.util.fs import atomic_write

TYPE_CHECKING = False  # the plugin's hooks import this module: stdlib only at run time
if TYPE_CHECKING:
    from typing import Any

    from pydantic import BaseModel


TASK_PROMPT = ".prompt.md"
TASK_STAGES = ("answer", "review", "synthesis")


def slug(seat: str) -> str:
    """A file name for a seat id: 'codex:gpt-5.4#2' -> 'codex_gpt-5.4_2'."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", seat).strip("_") or "seat"


def new_run_id(seed: int) -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{seed % 0xFFFFFF:06x}"


class RunStore:
    """Reads and writes one run directory; names each of its files (relative paths)."""

    RUN = "run.json"
    RESULT = "result.json"
    REPORT = "report.md"
    REPORT_HTML = "report.html"
    SYNTHESIS_PROMPT = "stage3/prompt.md"
    SYNTHESIS = "stage3/synthesis.json"
    CHAIR_FAILED = "stage3/failed.json"
    # a hosted run
    PLAN = "plan.json"
    AGENT_CHAIR_RAW = "stage3/raw-agent.txt"
    AGENT_CHAIR_FAILED = "stage3/agent-failed.json"
    FAILED = "failed.json"
    CANCELLED = "cancelled.json"
    STEP_LOCK = "step.lock"

    def __init__(self, root: Path) -> None:
        self.root = root

    # --- names ------------------------------------------------------------------------------

    @staticmethod
    def answer_rel(seat: str) -> str:
        return f"stage1/{slug(seat)}.json"

    @staticmethod
    def ballot_rel(seat: str) -> str:
        return f"stage2/{slug(seat)}.json"

    @staticmethod
    def review_prompt_rel(seat: str) -> str:
        return f"stage2/{slug(seat)}.prompt.md"

    @staticmethod
    def review_raw_rel(seat: str, attempt: int) -> str:
        return f"stage2/{slug(seat)}.raw-{attempt}.txt"

    @staticmethod
    def chair_raw_rel(attempt: int) -> str:
        return f"stage3/raw-{attempt}.txt"

    @staticmethod
    def task_rels(stage: str, seat: str) -> tuple[str, str]:
        """(prompt, output) of a Claude seat's task; a ballot is written as JSON."""
        base = f"tasks/{stage}/{slug(seat)}"
        return base + TASK_PROMPT, base + (".json" if stage == "review" else ".md")

    @staticmethod
    def task_state_rel(stage: str, seat: str) -> str:
        return f"tasks/{stage}/{slug(seat)}.state.json"

    @staticmethod
    def task_capture_rel(stage: str, seat: str) -> str:
        """How the seat's reply was taken from Claude Code's hooks (hosted/capture.py)."""
        return f"tasks/{stage}/{slug(seat)}.capture.json"

    @staticmethod
    def task_issued_rel(stage: str, seat: str) -> str:
        """When the seat's Agent call was last handed to the host, for which attempt."""
        return f"tasks/{stage}/{slug(seat)}.issued.json"

    @staticmethod
    def task_of_prompt(prompt_file: Path) -> tuple[Path, str, str] | None:
        """(run root, stage, seat slug) when `prompt_file` is a task's prompt file by name
        (tasks/<stage>/<seat>.prompt.md); None for any other file."""
        name, folder = prompt_file.name, prompt_file.parent
        if (
            not name.endswith(TASK_PROMPT)
            or name == TASK_PROMPT
            or folder.name not in TASK_STAGES
            or folder.parent.name != "tasks"
        ):
            return None
        return folder.parent.parent, folder.name, name[: -len(TASK_PROMPT)]

    @staticmethod
    def worker_rel(stage: str, suffix: str) -> str:
        """The stage worker's `lock`, `pid` or `log` file."""
        return f"workers/{stage}.{suffix}"

    def task_paths(self, stage: str, seat: str) -> tuple[Path, Path]:
        prompt, out = self.task_rels(stage, seat)
        return self.path(prompt), self.path(out)

    # --- files ------------------------------------------------------------------------------

    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    def write_text(self, rel: str, text: str) -> Path:
        target = self.path(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, text)  # the text as given
        return target

    def write_json(self, rel: str, data: BaseModel | dict[str, Any]) -> Path:
        payload = data if isinstance(data, dict) else data.model_dump(mode="json")
        return self.write_text(rel, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")

    def read_json(self, rel: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path(rel).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None
