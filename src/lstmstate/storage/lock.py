"""The lock of a run folder: held while a command writes there, so two commands cannot
interleave their files; an ``flock`` on ``DIR/.lstmstate.lock``, released when its file closes."""

import errno
import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

from lstmstate.storage.paths import refuse_link

LOCK = ".lstmstate.lock"

# The locks this process holds: folder identity -> open file (flock is released when it closes,
# or when the process ends however it ends, so a killed command leaves no stale lock).
_LOCKS: dict[tuple[int, int], int] = {}


def lock(folder: Path) -> bool:
    """Hold ``folder``'s lock until ``unlock`` or the end of this process; a ``ValueError`` when
    another command holds it. Returns False when this process held it already (a no-op)."""
    folder = Path(folder)
    refuse_link(folder)
    identity = _identity(folder)
    if identity in _LOCKS:
        return False
    path = folder / LOCK
    try:
        handle = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as error:
        if error.errno == errno.ELOOP:
            refuse_link(path)
        raise ValueError(f"cannot lock {folder}: {error.strerror or error}") from None
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(handle, 32).decode(errors="replace").strip()
        os.close(handle)
        who = f" (process {holder})" if holder.isdigit() else ""
        raise ValueError(f"another lstmstate command is writing to {folder}{who}; wait for it to finish, "
                         "or give another folder") from None
    os.ftruncate(handle, 0)
    os.write(handle, f"{os.getpid()}\n".encode())
    _LOCKS[identity] = handle
    return True


def unlock(folder: Path) -> None:
    """Release ``folder``'s lock if this process holds it."""
    try:
        handle = _LOCKS.pop(_identity(Path(folder)), None)
    except (OSError, ValueError):
        return
    if handle is not None:
        os.close(handle)


@contextmanager
def locked(folder: Path):
    """``folder`` locked while the block runs, and released after it unless it was held before
    (a command that locked its folder in ``prepare`` keeps it to the end)."""
    taken = lock(folder)
    try:
        yield
    finally:
        if taken:
            unlock(folder)


def _identity(folder: Path) -> tuple[int, int]:
    try:
        info = os.stat(folder)
    except OSError as error:
        raise ValueError(f"cannot use {folder}: {error.strerror or error}") from None
    return info.st_dev, info.st_ino
