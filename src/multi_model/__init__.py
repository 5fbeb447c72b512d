"""multi-model: ask other AI models through the coding CLIs and local servers you already have.

Public API (imported lazily, so `import multi_model` does no work):
    dispatch(models, prompt, ...) -> list[Response]     in the order of `models`
    run_council(prompt, panel, chairman=None, dispatch_fn=None, timeout=300, seed=None)
        -> CouncilResult
"""

from __future__ import annotations

TYPE_CHECKING = False  # not `from typing`: the hooks import this package and start fast

__version__ = "0.1.0"
__all__ = ["CouncilResult", "Response", "__version__", "dispatch", "run_council"]

if TYPE_CHECKING:
    from typing import Any

    from multi_model.council.models import CouncilResult
    from multi_model.council.run import run_council
    from multi_model.fanout import dispatch
    from multi_model.models import Response

_LAZY = {
    "dispatch": ("multi_model.fanout", "dispatch"),
    "Response": ("multi_model.models", "Response"),
    "run_council": ("multi_model.council.run", "run_council"),
    "CouncilResult": ("multi_model.council.models", "CouncilResult"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'multi_model' has no attribute {name!r}")
    import importlib  # noqa: PLC0415 - the hooks import this package: no work at import

    module, attr = _LAZY[name]
    return getattr(importlib.import_module(module), attr)
