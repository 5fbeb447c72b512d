"""Install the real model servers the tests in tests/local drive, into their shared cache
(`python -m tests.local.install`; scripts/run-tests runs it). Prints what it cost; exits 1
naming what could not be installed."""

from __future__ import annotations

import sys
import time

from multi_model.errors import LocalModelUnavailable
from tests.local import servers
from tests.local.servers import llama


def main() -> int:
    problems = []
    start = time.monotonic()
    try:
        _, took = llama.ensure(servers.cache_dir(), lambda line: print(line, file=sys.stderr))
        print(f"install-servers: llama.cpp + SmolLM2 {'cached' if not took else f'{took:.1f}s'}")
    except LocalModelUnavailable as exc:
        problems.append(f"llama.cpp + SmolLM2: {exc}")
    try:
        took = servers.ensure_litellm()
        print(f"install-servers: {servers.LITELLM} {'cached' if not took else f'{took:.1f}s'}")
    except (OSError, servers.subprocess.CalledProcessError) as exc:
        problems.append(f"{servers.LITELLM}: {exc}")
    for problem in problems:
        print(f"install-servers: could not install {problem}", file=sys.stderr)
    print(f"install-servers: {time.monotonic() - start:.1f}s in all")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
