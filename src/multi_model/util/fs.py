"""Files shared between processes: atomic replacement, and a lock handed to a child.
Stdlib only (the Claude Code hooks import it and must start in milliseconds)."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

TYPE_CHECKING = False  # the hooks import this module: no `typing` at run time
if TYPE_CHECKING:
    from collections.abc import Iterator


def atomic_write(path: Path | str, data: str | bytes, *, mode: int = 0o600) -> None:
    """Replace `path` with `data` (text as UTF-8, unchanged) so that readers see the old file
    or the new one, never part of either: a unique temp file in the same folder, created with
    `mode` (less the umask), renamed over `path`, removed if anything fails. Raises OSError."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def lock_for_child(path: Path | str) -> Iterator[int | None]:
    """Take `path`'s lock (flock, created 0600) without waiting, to hand to a child process:
    yields the locked fd, or None when another process holds the lock. Pass the fd to the
    child (it then holds the lock for as long as it lives: the lock belongs to the open file,
    which it shares); ours is closed on exit, so the lock is released if no child took it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield None
            return
        yield fd
    finally:
        os.close(fd)
