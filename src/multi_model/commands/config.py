"""`mm config`: resolved settings and where each value comes from; with --task/--profile,
the task table's seats and how each routes."""

from __future__ import annotations

import argparse
import os
import sys

from multi_model import render, tasks
from multi_model.commands import common, exits
from multi_model.config import Loaded, load_settings
from multi_model.routing import chain_of, route_all


def add_arguments(p: argparse.ArgumentParser) -> None:
    common.add_format(p)
    p.add_argument("--task", help="show the seats of this task and how each spec routes")
    p.add_argument("--profile", help="with this profile laid over the config")


def run(args: argparse.Namespace) -> int:
    if args.task or args.profile:
        return task_view(args)
    rows = resolved_view(load_settings())
    if args.format == "json":
        common.write_json([{"key": k, "value": v, "source": s} for k, v, s in rows])
    else:
        sys.stdout.write(render.config_view(rows))
    return exits.Exit.OK


def task_view(args: argparse.Namespace) -> int:
    settings, profile = tasks.apply_profile(
        load_settings().settings, args.profile or tasks.env_profile()
    )
    names = [args.task] if args.task else sorted({*tasks.TASKS, *settings.tasks})
    for name in names:
        table, source = tasks.task(name, settings)
        routes = [route_all(chain_of(seat), settings, os.environ) for seat in table.models]
        sys.stdout.write(tasks.describe(name, settings, routes, source, profile))
    return exits.Exit.OK


def resolved_view(loaded: Loaded) -> list[tuple[str, object, str]]:
    """Every setting as (dotted key, value, source), defaults included, for `mm config`."""
    rows: list[tuple[str, object, str]] = []

    def walk(value: object, prefix: str) -> None:
        if isinstance(value, dict) and value:
            for key, child in value.items():
                walk(child, f"{prefix}.{key}" if prefix else str(key))
        else:
            rows.append((prefix, value, loaded.sources.get(prefix, "default")))

    walk(loaded.settings.model_dump(mode="json"), "")
    return rows
