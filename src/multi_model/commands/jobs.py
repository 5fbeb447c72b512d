"""`mm jobs list | status | result | cancel`: background jobs (`mm ask --background`, hosted
council runs)."""

from __future__ import annotations

import argparse
import os
import sys

from multi_model import render
from multi_model.commands import common, exits
from multi_model.council.hosted import job as council_job
from multi_model.errors import UsageError
from multi_model.jobs import Jobs


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("list", "status", "result", "cancel"))
    p.add_argument("job", nargs="?", help="job id (not for list)")
    common.add_format(p)


def run(args: argparse.Namespace) -> int:
    council_job.register()  # a council run is a job too
    jobs = Jobs(os.environ)
    if args.action == "list":
        rows = jobs.list()
        if args.format == "json":
            common.write_json(rows)
        else:
            sys.stdout.write(render.jobs_table(rows))
        return exits.Exit.OK
    if not args.job:
        raise UsageError(f"mm jobs {args.action} needs a job id (see `mm jobs list`)")
    if args.action == "cancel":
        print(f"job {args.job}: {jobs.cancel(args.job)}")
        return exits.Exit.OK
    row = jobs.refresh(args.job)
    if args.action == "status":
        if args.format == "json":
            common.write_json(row)
        else:
            sys.stdout.write(render.jobs_table([row]))
        return exits.Exit.OK
    return result(jobs, args.job, row)


def result(jobs: Jobs, job_id: str, row: dict[str, object]) -> int:
    """`mm jobs result`: the job's JSON, exit as its command would have exited."""
    if row["status"] == "running":
        print(f"mm: job {job_id} is still running; run this again later", file=sys.stderr)
        return exits.Exit.PENDING
    found = jobs.result(job_id)
    if found is None:
        print(f"mm: job {job_id} {row['status']}: {row['error'] or 'no result'}", file=sys.stderr)
        return exits.Exit.ALL_FAILED
    common.write_json(found)
    if row["kind"] == "council":
        assert isinstance(found, dict)
        return exits.of_council(bool(found.get("stage3_synthesis")))
    assert isinstance(found, list)
    return exits.of_answers(str(r["status"]) for r in found)
