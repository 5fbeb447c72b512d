"""Redaction recall on the labelled corpus, and false positives on this repository's code.

    .venv/bin/python benchmarks/redaction.py [--show N]

1. Recall: the share of tests/security/corpus.py's cases (fresh random secrets each run) from
   which no secret substring survives, for the layered redactor (`review.redact`), for
   detect-secrets alone, and for the old regexes alone (`privacy.redact`); then each format
   a redactor misses. Goal: 100% for the layered one, never below detect-secrets alone.
2. False positives: redactions the layered redactor makes in this repository's own src/ and
   tests/ Python files (none of which holds a real secret); the files with most, `--show` of
   them. Lower is better: each one is code a reviewer sees as [REDACTED].
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "security"))

from corpus import Case, corpus  # noqa: E402

from multi_model.review import privacy, redact  # noqa: E402

Redactor = Callable[[str, str], tuple[str, list[str]]]
REDACTORS: dict[str, Redactor] = {
    "layered (ours)": redact.redact,
    "detect-secrets alone": redact.scanner_only,
    "old regexes": lambda text, name: privacy.redact(text),
}


def misses(fn: Redactor, cases: list[Case]) -> list[str]:
    """Formats from which a secret survived, or whose line structure changed."""
    out = []
    for case in cases:
        clean, _ = fn(case.text, case.file)
        if any(s in clean for s in case.secrets) or clean.count("\n") != case.text.count("\n"):
            out.append(case.format)
    return out


def false_positives() -> dict[str, int]:
    found = {}
    for path in sorted([*ROOT.glob("src/**/*.py"), *ROOT.glob("tests/**/*.py")]):
        rel = str(path.relative_to(ROOT))
        _, kinds = redact.redact(path.read_text(encoding="utf-8"), rel)
        if kinds:
            found[rel] = len(kinds)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=int, default=10, help="files with most false positives")
    args = parser.parse_args()
    cases = corpus()
    print(f"corpus: {len(cases)} formats and placements")
    for label, fn in REDACTORS.items():
        missed = misses(fn, cases)
        print(
            f"  {label:22} recall {1 - len(missed) / len(cases):7.1%}  "
            f"({len(cases) - len(missed)}/{len(cases)})"
        )
        for fmt in missed:
            print(f"      missed: {fmt}")
    fps = false_positives()
    files = len([*ROOT.glob("src/**/*.py"), *ROOT.glob("tests/**/*.py")])
    print(
        f"false positives in src/ and tests/ (*.py, {files} files): {sum(fps.values())} "
        f"redaction(s) in {len(fps)} file(s)"
    )
    for rel, n in sorted(fps.items(), key=lambda kv: -kv[1])[: args.show]:
        print(f"  {n:4}  {rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
