"""The council's run directory: every prompt, raw reply, ballot and result as a file.

    <data dir>/runs/<run id>/
      run.json                     question, seats, chairman, seed, settings of the run
      stage1/<seat>.json           each seat's Response
      stage2/<reviewer>.prompt.md  the prompt that reviewer saw (its own shuffle)
      stage2/<reviewer>.raw-<n>.txt  its reply to try n
      stage2/<reviewer>.json       its BallotRecord
      stage3/prompt.md, stage3/raw-<n>.txt, stage3/synthesis.json
      result.json, report.md

Files are written atomically (temp file + rename) as each piece finishes, so killing the
process loses nothing already done, and a stage re-run finds what exists.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from pathlib import Path

from pydantic import BaseModel


def slug(seat: str) -> str:
    """A file name for a seat id: 'codex:gpt-5.4#2' -> 'codex_gpt-5.4_2'."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", seat).strip("_") or "seat"


def new_run_id(seed: int) -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{seed % 0xFFFFFF:06x}"


class RunStore:
    """Reads and writes one run directory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    def write_text(self, rel: str, text: str) -> Path:
        target = self.path(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, target)
        return target

    def write_json(self, rel: str, data: BaseModel | dict) -> Path:
        payload = data.model_dump(mode="json") if isinstance(data, BaseModel) else data
        return self.write_text(rel, json.dumps(payload, indent=2, ensure_ascii=False) + "\n")

    def read_json(self, rel: str) -> dict | None:
        try:
            data = json.loads(self.path(rel).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None
