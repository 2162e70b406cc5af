"""Files written atomically and read back checked: the only way lstmstate touches the disk.

Every file is written through a temporary file and a rename, so a reader (or a crash, or
Ctrl-C) sees the old file or the new one, never a part of one.

Every file is read as data from someone else: a size limit before it is read, JSON without
NaN, infinity or runaway nesting, and arrays checked from their ``.npy`` headers (names, dtype,
shape) before a byte of their data is inflated, so a small archive that inflates to gigabytes
costs nothing.
"""

import io
import json
import math
import os
import stat
import tempfile
import zipfile
from pathlib import Path

import numpy as np

MAX_JSON_BYTES = 16 * 2 ** 20  # far above any results.json or setup.json lstmstate writes (curves hold
# <= 250 points; a vocabulary of 100,000 words is about 1 MB), and parsed it stays some 100 MB
MAX_JSON_DEPTH = 32  # lstmstate's own files nest 6 deep; Python's parser overflows its stack near 1,000
MAX_NOTES = 20  # notes on non-finite numbers kept one by one; the rest are counted


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
        # rename replaces a symlink at ``path`` itself; it never writes through one.
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def check_destinations(destinations: dict[str, Path | None]) -> None:
    """``check_destination`` of each path asked for in ``{field: path}`` (None: not asked for)."""
    for field, path in destinations.items():
        if path is not None:
            check_destination(path, f"`{field}`")


def check_destination(path: Path, option: str, size: int = 0) -> None:
    """A ``ValueError`` naming ``option`` when ``path`` cannot take a file written by
    ``write_atomically``, checked before the work that makes it: ``path`` a symbolic link (the
    rename would replace the link, not write where it leads; lstmstate writes through none), a
    folder or a device, or its folder not writable (a read-only disk too) or without ``size`` bytes free."""
    path = Path(path)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as error:
        raise ValueError(f"{option} {path}: {error.strerror or error}") from None
    if mode is not None and stat.S_ISLNK(mode):
        raise ValueError(f"refusing to write {option} {path}: it is a symbolic link, and lstmstate writes through "
                         "none; give the file's real path")
    if mode is not None and not stat.S_ISREG(mode):
        raise ValueError(f"{option} {path} is {'a folder' if stat.S_ISDIR(mode) else 'not a regular file'}; "
                         "give a file name")
    # The nearest folder that exists: write_atomically makes the missing ones below it.
    folder = next((p for p in path.absolute().parents if os.path.lexists(p)), Path("/"))
    if not folder.is_dir():
        raise ValueError(f"{option} {path}: {folder} is not a folder")
    if not os.access(folder, os.W_OK | os.X_OK):  # False on a read-only file system too (access(2): EROFS)
        raise ValueError(f"{option} {path}: cannot write in {folder} (read-only, or not yours)")
    try:
        free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    except OSError:
        return
    if size > free:
        raise ValueError(f"{option} {path}: the file needs about {size} bytes, and {folder} has {free} free")


def write_json(path: Path, payload: dict) -> None:
    """``payload`` as indented JSON. JSON has no NaN or infinity, so a non-finite number is written
    as null and a line under ``"notes"`` says where it was and what it was: nothing is lost."""
    try:
        text = json.dumps(payload, indent=2, allow_nan=False)
    except ValueError:
        notes = []
        payload = _finite(payload, (), notes)
        if len(notes) > MAX_NOTES:
            notes = notes[:MAX_NOTES] + [f"and {len(notes) - MAX_NOTES} more non-finite numbers, written as null"]
        payload["notes"] = [*payload.get("notes", []), *notes]
        text = json.dumps(payload, indent=2, allow_nan=False)
    write_atomically(path, (text + "\n").encode())


def _finite(value, where: tuple, notes: list):
    """``value`` with every non-finite float replaced by None, each noted with its path."""
    if isinstance(value, dict):
        return {key: _finite(item, (*where, str(key)), notes) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item, (*where, str(index)), notes) for index, item in enumerate(value)]
    if isinstance(value, float) and not math.isfinite(value):
        notes.append(f"{'.'.join(where)} was {value}, written as null (JSON has no NaN or infinity)")
        return None
    return value


def write_arrays(path: Path, **arrays: np.ndarray) -> None:
    """An ``.npz`` of ``arrays``."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    write_atomically(path, buffer.getvalue())


def read_text(path: Path, wanted: str = "a UTF-8 text file") -> str:
    """The file as text, checked: present, a file, readable, not empty, not binary, UTF-8 (a BOM is
    dropped). Each failure is a one-line ``ValueError``; ``wanted`` says what to give instead."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path}: no such file")
    if not path.is_file():
        raise ValueError(f"{path} is not a file")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror or error}") from None
    if not data:
        raise ValueError(f"{path} is empty")
    # Text never holds NUL bytes; images, archives and model files almost always do.
    nul = data.find(b"\x00")
    if nul >= 0:
        raise ValueError(f"{path} looks binary (a NUL byte at offset {nul}); give {wanted}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not UTF-8 text: byte 0x{data[error.start]:02x} at offset {error.start} "
                         "cannot be decoded; convert the file to UTF-8") from None


def read_json(path: Path) -> dict:
    """A JSON object from ``path``. A missing file, one over ``MAX_JSON_BYTES``, bad JSON, NaN or
    infinity (``NaN``, ``Infinity``, ``1e999``), nesting deeper than ``MAX_JSON_DEPTH`` or a
    non-object is a one-line ``ValueError``."""
    path = Path(path)
    return parse_json(_read_regular_file(path, MAX_JSON_BYTES), path)


def parse_json(raw: bytes, path: Path | str) -> dict:
    """``read_json``'s checks on JSON already read (``path`` names where it came from)."""
    if len(raw) > MAX_JSON_BYTES:
        raise ValueError(f"{path} is damaged: its JSON has {len(raw)} bytes, more than the {MAX_JSON_BYTES} "
                         "lstmstate ever writes")
    try:
        payload = json.loads(raw.decode("utf-8"), parse_constant=_not_a_number, parse_float=_finite_float)
    except RecursionError:
        raise ValueError(f"{path} is damaged: it nests deeper than {MAX_JSON_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as error:  # JSONDecodeError is a ValueError
        raise ValueError(f"{path} is damaged: {_one_line(error)}") from None
    if not isinstance(payload, dict):
        raise ValueError(f"{path} is damaged: it holds no JSON object")
    if _depth(payload) > MAX_JSON_DEPTH:
        raise ValueError(f"{path} is damaged: it nests deeper than {MAX_JSON_DEPTH} levels")
    return payload


def _not_a_number(token: str):
    raise ValueError(f"{token} is not a JSON number (lstmstate writes null for a non-finite value)")


def _finite_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):  # 1e999 parses as infinity
        raise ValueError(f"{token[:40]} is out of range for a 64-bit float")
    return value


def _depth(value) -> int:
    """How deep ``value`` nests, counted without recursion (so a deep one cannot overflow the stack)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, depth)
            if depth > MAX_JSON_DEPTH:
                return depth
            pending.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:300]


def _read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of ``path``, which must be a regular file of at most ``limit`` bytes (never a
    pipe or a device, which could block or never end)."""
    try:
        # O_NONBLOCK: opening a named pipe must not wait for a writer; it is refused below.
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ValueError(f"{path} is missing") from None
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror or error}") from None
    with os.fdopen(handle, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{path} is not a regular file")
        if info.st_size > limit:
            raise ValueError(f"{path} is damaged: it has {info.st_size} bytes, more than the {limit} "
                             "lstmstate ever writes there")
        return file.read(limit + 1)[:limit]


# ---- arrays -----------------------------------------------------------------------------------

FLOAT_ITEMSIZES = (2, 4, 8)  # float16, float32, float64: what a weight may be stored as
NPY_HEADER_BYTES = 64 * 1024  # numpy's own header limit is 10,000 bytes


def read_float_arrays(path: Path, shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """The arrays of the ``.npz`` at ``path`` as float32, exactly the names and shapes in ``shapes``.

    Each member is checked from its ``.npy`` header (name, floating dtype, shape) before its data
    is read, and no more than that shape's bytes are ever inflated. Anything else (another name,
    an integer, complex, string, date or structured dtype, another shape, a pickle, a file larger
    than the arrays could be) is a one-line ``ValueError``.
    """
    path = Path(path)
    expected_bytes = sum(8 * math.prod(shape) + NPY_HEADER_BYTES for shape in shapes.values())
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise ValueError(f"{path} is missing") from None
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror or error}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{path} is not a regular file")
    if info.st_size > expected_bytes + 2 ** 20:
        raise ValueError(f"{path} is damaged: it has {info.st_size} bytes, more than its arrays "
                         f"{sorted(shapes)} can take ({expected_bytes})")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            names = sorted(member.filename.removesuffix(".npy") for member in members)
            if names != sorted(shapes) or len(members) != len(shapes):
                raise ValueError(f"{path} is damaged: it holds {names[:20]}, the model needs {sorted(shapes)}")
            return {member.filename.removesuffix(".npy"): _read_member(path, archive, member,
                                                                        shapes[member.filename.removesuffix(".npy")])
                    for member in members}
    except (OSError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError) as error:
        raise ValueError(f"{path} is damaged: {_one_line(error)}") from None


def read_member(path: Path, archive: zipfile.ZipFile, member: zipfile.ZipInfo, shape: tuple[int, ...],
                dtype: np.dtype) -> np.ndarray:
    """One ``.npy`` member of an open ``.npz`` that must hold exactly ``dtype`` values of ``shape``,
    checked from its header before more than that shape's bytes are inflated."""
    return _read_member(path, archive, member, shape, np.dtype(dtype))


def _read_member(path: Path, archive: zipfile.ZipFile, member: zipfile.ZipInfo, shape: tuple[int, ...],
                 exact: np.dtype | None = None) -> np.ndarray:
    """A member as float32 from any float width, or (``exact``) as exactly that dtype."""
    key = member.filename.removesuffix(".npy")
    count = math.prod(shape)
    if member.file_size > NPY_HEADER_BYTES + 8 * count:
        raise ValueError(f"{path} is damaged: {key} inflates to {member.file_size} bytes, more than "
                         f"{shape} values can take")
    with archive.open(member) as stream:
        try:
            version = np.lib.format.read_magic(stream)
            if version == (1, 0):
                declared, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
            elif version == (2, 0):
                declared, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
            else:
                raise ValueError(f"npy format {version} is not one lstmstate reads")
        except ValueError as error:
            raise ValueError(f"{path} is damaged: {key} has no valid .npy header ({_one_line(error)})") from None
        if exact is not None and dtype != exact:
            raise ValueError(f"{path} is damaged: {key} holds {dtype.str} values, not {exact.str}")
        if exact is None and (dtype.kind != "f" or dtype.fields is not None or dtype.subdtype is not None
                              or dtype.itemsize not in FLOAT_ITEMSIZES):
            raise ValueError(f"{path} is damaged: {key} holds {dtype.str} values; weights are floats "
                             "(float16, float32 or float64)")
        if tuple(declared) != tuple(shape):
            raise ValueError(f"{path} is damaged: {key} is {tuple(declared)}, the model needs {tuple(shape)}")
        size = count * dtype.itemsize
        data = stream.read(size)
    if len(data) != size:
        raise ValueError(f"{path} is damaged: {key} is cut short ({len(data)} of {size} bytes)")
    values = np.frombuffer(data, dtype).reshape(shape, order="F" if fortran else "C")
    return values.astype(np.float32 if exact is None else exact)  # a copy: writable, not the buffer
