"""Paths in a run folder, checked before anything is written there: each part a plain name, no
symbolic link on the way, nothing of the wrong kind in the way, and not too long for the file
system (a write that could only fail after training)."""

import os
import re
import stat
from pathlib import Path

from lstmstate.storage import schema

# A file or folder name lstmstate writes: a NAME, maybe with a prefix and an extension.
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,200}")
_TEMPORARY = len(".") + len(".XXXXXXXX.tmp")  # files.write_atomically's temporary name around a file name


def target(folder: Path, *parts: str) -> Path:
    """The path ``folder/parts…`` to write, checked: each part a plain name (no ``..``, no
    separator), nothing on the way a symbolic link (the run folder included) or a file where a
    folder goes, the file itself not a link or a folder. Missing folders are made."""
    folder = Path(folder)
    for part in parts:
        if not isinstance(part, str) or not _FILE_NAME.fullmatch(part):
            raise ValueError(f"refusing to write {schema.short(part)} in {folder}: not a name lstmstate writes")
    refuse_link(folder)
    if kind_of(folder) == "missing":
        _make(folder, parents=True)
    path = folder
    for index, part in enumerate(parts):
        path = path / part
        last = index == len(parts) - 1
        kind = kind_of(path)
        if kind == "link":
            refuse_link(path)
        if last:
            if kind == "folder":
                raise ValueError(f"cannot write {path}: a folder of that name is in the way; move it")
        elif kind == "missing":
            _make(path)
        elif kind != "folder":
            raise ValueError(f"cannot write in {path}: a file of that name is in the way; move it")
    return path


def _make(folder: Path, parents: bool = False) -> None:
    try:
        folder.mkdir(parents=parents, exist_ok=True)
    except OSError as error:
        raise ValueError(f"cannot make {folder}: {error.strerror or error}") from None
    if kind_of(folder) != "folder":  # made a moment ago; a link or a file put there since is refused
        refuse_link(folder)
        raise ValueError(f"cannot write in {folder}: a file of that name is in the way; move it")


def check_length(path: Path) -> None:
    """A ``ValueError`` when ``path`` (or the temporary file it is written through) is longer than
    the file system takes: a write that could only fail after training."""
    existing = next((p for p in [path, *path.parents] if _kind_or_missing(p) != "missing"), Path("."))
    try:
        name_max = os.pathconf(existing, "PC_NAME_MAX")
        path_max = os.pathconf(existing, "PC_PATH_MAX")
    except (OSError, ValueError):
        name_max, path_max = 255, 4096
    longest_part = max(len(os.fsencode(part)) for part in path.parts)
    temporary_name = len(os.fsencode(path.name)) + _TEMPORARY
    if max(longest_part, temporary_name) > name_max or len(os.fsencode(str(path))) + _TEMPORARY >= path_max:
        raise ValueError(f"`out` {path.parent if path.parent.name else path} is too long: the run would write "
                         f"{path} ({len(os.fsencode(str(path)))} bytes), and this file system takes names of at most "
                         f"{name_max} bytes and paths of at most {path_max}; give a shorter `out`")


def check_destination(out: Path, path: Path) -> None:
    """Nothing of the wrong kind where ``path`` and its folders go, and no link on the way."""
    for folder in reversed(path.relative_to(out).parents):
        if folder == Path("."):
            continue
        kind = kind_of(out / folder)
        if kind == "link":
            refuse_link(out / folder)
        if kind == "file":
            raise ValueError(f"`out` {out}: {out / folder} is a file where the run writes a folder; move it")
    kind = kind_of(path)
    if kind == "link":
        refuse_link(path)
    if kind == "folder":
        raise ValueError(f"`out` {out}: {path} is a folder where the run writes a file; move it")


def kind_of(path: Path) -> str:
    """"missing", "link", "folder", "file" or "other" (a pipe, a device), never following a link."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return "missing"
    except OSError as error:
        raise ValueError(f"cannot use {path}: {error.strerror or error}") from None
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "folder"
    return "file" if stat.S_ISREG(mode) else "other"


def _kind_or_missing(path: Path) -> str:
    """``kind_of``, with a path the system cannot even look up (too long) taken as missing."""
    try:
        return kind_of(path)
    except ValueError:
        return "missing"


def refuse_link(path: Path) -> None:
    if kind_of(path) == "link":
        raise ValueError(f"refusing to write through {path}: it is a symbolic link, and lstmstate writes only "
                         "inside the run folder itself; give the real folder")
