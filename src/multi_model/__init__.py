"""multi-model: ask other AI models through the coding CLIs and local servers you already have.

Public API (imported lazily, so `import multi_model` does no work):
    dispatch(models, prompt, ...) -> list[Response]   in the order of `models`
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Response", "dispatch", "__version__"]

if TYPE_CHECKING:
    from multi_model.fanout import dispatch
    from multi_model.models import Response


def __getattr__(name: str) -> Any:
    if name == "dispatch":
        from multi_model.fanout import dispatch

        return dispatch
    if name == "Response":
        from multi_model.models import Response

        return Response
    raise AttributeError(f"module 'multi_model' has no attribute {name!r}")
