"""Files written atomically and JSON read back checked: the only way lstmstate touches the disk.

Every file is written through a temporary file and a rename, so a reader (or a crash, or
Ctrl-C) sees the old file or the new one, never a part of one.
"""

import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        # mkstemp makes the file owner-only; results and reports are for people to open.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(path: Path, payload: dict) -> None:
    """``payload`` as indented JSON; NaN and infinity are refused (they are not JSON)."""
    write_atomically(path, (json.dumps(payload, indent=2, allow_nan=False) + "\n").encode())


def write_arrays(path: Path, **arrays: np.ndarray) -> None:
    """An ``.npz`` of ``arrays``."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    write_atomically(path, buffer.getvalue())


def read_json(path: Path) -> dict:
    """A JSON object from ``path``; a missing file, bad JSON or a non-object is a ``ValueError``."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path} is missing")
    try:
        payload = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is damaged: {error}") from None
    if not isinstance(payload, dict):
        raise ValueError(f"{path} is damaged: it holds no JSON object")
    return payload
