"""External review of a change: `review(targets, models)` -> findings merged across reviewers.

    collect   what to send: the working tree's diff against HEAD, or named files; files on the
              deny list never leave the machine, secrets are redacted, binaries and oversize
              content are skipped (each with a note)
    prompt    nonce-framed untrusted data, a strict JSON reply
    parse     `{"findings": [{file, line, severity, title, detail, suggestion}]}` through the
              same extract -> schema -> model pipeline as council ballots
    merge     one finding per (file, nearby line, same issue), with the reviewers that raised it
"""

from multi_model.review.engine import Finding, ReviewResult, collect, review

__all__ = ["Finding", "ReviewResult", "collect", "review"]
