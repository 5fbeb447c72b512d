"""Public result types: `from multi_model.types import Response`."""

from __future__ import annotations

from multi_model.models import STATUSES, Response, Status, Usage

__all__ = ["STATUSES", "Response", "Status", "Usage"]
