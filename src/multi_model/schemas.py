"""JSON Schemas generated from the pydantic models, committed under `schemas/`.

`python -m multi_model.schemas [DIR]` regenerates the files (DIR defaults to the source
checkout's `schemas/`). Tests fail when a model changes and the files were not regenerated,
and a snapshot pins the schema so that every change is a reviewed diff.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

from pydantic import TypeAdapter

from multi_model.models import Response

DRAFT = "https://json-schema.org/draft/2020-12/schema"
REPO_SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def response_schema() -> dict[str, object]:
    """The schema of what `mm ask` prints: a JSON array of Response objects."""
    generated = TypeAdapter(list[Response]).json_schema(mode="serialization")
    return {
        "$schema": DRAFT,
        "$id": "urn:multi-model:schema:response",
        "title": "multi-model mm ask output",
        "description": "One Response per requested model, in the order requested.",
        **generated,
    }


def council_result_schema() -> dict[str, object]:
    """The schema of `mm council --format json` / `--output` and of a run's result.json."""
    # lazy: the review path imports this module for DRAFT; council models are built on demand
    from multi_model.council.models import CouncilResult  # noqa: PLC0415 - see above

    generated = TypeAdapter(CouncilResult).json_schema(mode="serialization")
    return {
        "$schema": DRAFT,
        "$id": "urn:multi-model:schema:council-result",
        "title": "multi-model council result",
        **generated,
    }


SCHEMAS = {
    "response.schema.json": response_schema,
    "council-result.schema.json": council_result_schema,
}


def render(schema: dict[str, object]) -> str:
    """The file text for a schema: stable key order as generated, 2-space indent, newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_schemas(directory: Path) -> list[Path]:
    """Write every schema into `directory` (created if missing); returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, build in SCHEMAS.items():
        path = directory / name
        path.write_text(render(build()), encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) > 1 or args[:1] in (["-h"], ["--help"]):
        print("usage: python -m multi_model.schemas [DIR]", file=sys.stderr)
        return 2
    if args:
        directory = Path(args[0])
    elif (REPO_SCHEMAS.parent / "pyproject.toml").is_file():
        directory = REPO_SCHEMAS
    else:
        print("multi_model.schemas: not a source checkout; give the output DIR", file=sys.stderr)
        return 2
    for path in write_schemas(directory):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
