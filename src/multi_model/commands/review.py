"""`mm review [PATHS]`: other models review the working tree's change or the named files."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from multi_model.commands import common, exits
from multi_model.config import load_settings
from multi_model.errors import UsageError
from multi_model.fanout import dispatch
from multi_model.review import engine
from multi_model.review.change import collect, repository_root
from multi_model.review.deny import DenyList, DenyPatternError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "paths",
        nargs="*",
        help="files to review (default: the change); "
        "`mm review on|off|mode|status` control the review of Claude's edits "
        "(`mm review -- status` reviews a file named status)",
    )
    p.add_argument("--models", help="reviewers (default: the first logged-in CLI)")
    p.add_argument("--timeout", type=float, help="seconds per reviewer (default 300)")
    common.add_format(p, default="md")
    p.add_argument("--output", type=Path, help="write the full JSON here")
    p.add_argument(
        "--deny",
        action="append",
        default=[],
        metavar="PATTERN",
        help="never send files matching PATTERN (gitignore syntax, any case; "
        "added to the built-in list and [review] deny)",
    )
    p.add_argument(
        "--explain-deny",
        metavar="PATH",
        help="say whether PATH (and its link "
        "target) would be held back, and by which pattern; sends nothing, "
        "exit 0 either way",
    )


def run(args: argparse.Namespace) -> int:
    common.check_run_args(args)
    env = dict(os.environ)
    settings = load_settings(None, env).settings
    if args.explain_deny is not None:
        return explain_deny(args.explain_deny, [*settings.review.deny, *args.deny])
    result = perform(args.paths, args.models, args.timeout, args.deny, env)
    if args.output:
        common.write_json(result.model_dump(mode="json"), args.output)
    if args.format == "json":
        common.write_json(result.model_dump(mode="json"))
    else:
        sys.stdout.write(engine.to_markdown(result))
    ran = [r for r in result.reviewers if r.status == "ok"]
    return exits.of_reviews(len(ran), len(result.reviewers))


def perform(
    paths: list[str],
    models_text: str | None,
    timeout: float | None,
    deny: list[str],
    env: dict[str, str],
) -> engine.ReviewResult:
    """The review of `mm review` (and the MCP `review` tool): the deny list of the config
    plus `deny`, redaction, the audit log; reviewers from `models_text` or the config."""
    settings = load_settings(None, env).settings
    try:
        models = engine.reviewers(models_text, settings, env)
        change = collect(paths, Path.cwd(), [*settings.review.deny, *deny])
    except engine.ReviewInputError as exc:
        raise UsageError(str(exc)) from None
    read_project = settings.review.read_project
    with engine.reviewer_cwd(os.getcwd(), read_project) as where, common.recorded("review", False):
        return engine.review(
            change,
            models,
            lambda prompt, specs: dispatch(
                specs, prompt, timeout=timeout, settings=settings, env=env, cwd=where
            ),
            audit=engine.audit_path(env),
            intro=engine.PROJECT_INTRO if read_project else "",
        )


def explain_deny(path: str, deny: list[str]) -> int:
    """Which pattern, if any, holds `path` back; sends nothing."""
    try:
        rules = DenyList(deny)
    except DenyPatternError as exc:
        raise UsageError(str(exc)) from None
    sys.stdout.write(rules.explain(path, repository_root(Path.cwd())))
    return exits.Exit.OK
