"""`mm models [PROVIDER]`: the models each provider offers."""

from __future__ import annotations

import argparse
import os
import sys

from multi_model import render
from multi_model.catalog import list_models
from multi_model.commands import common, exits
from multi_model.config import load_settings


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("provider", nargs="?")
    common.add_format(p)


def run(args: argparse.Namespace) -> int:
    listings = list_models(load_settings().settings, os.environ, args.provider)
    if args.format == "json":
        common.write_json([listing.as_dict() for listing in listings])
    else:
        sys.stdout.write(render.models_view(listings))
    return exits.Exit.OK
