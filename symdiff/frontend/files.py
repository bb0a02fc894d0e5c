"""Every file symdiff writes goes through :func:`write_atomic`, and every file it reads through
:func:`read_source`.

A write never leaves a half-written or emptied file behind: the caller generates the whole text
first, it is written to a temporary file in the target's own folder, and that file is renamed over
the target (``os.replace``, atomic on POSIX and Windows). If anything fails, the old file is
untouched and the temporary is removed. Problems are :class:`~symdiff.errors.SymdiffError`\\ s that
name the file.
"""

from __future__ import annotations

import os
import stat
import tempfile

from ..errors import InputError, ParseError, SymdiffError


def check_path(path, what: str = "path") -> str:
    """``path`` as a string: a ``str`` or an ``os.PathLike`` naming a file (never a file
    descriptor, bytes or anything else)."""
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if not isinstance(path, str):
        raise InputError(f"{what} must be a str or os.PathLike naming a file, got "
                         f"{type(path).__name__}")
    if not path or "\x00" in path:
        raise InputError(f"{what} must name a file, got {path!r}")
    return path


def write_atomic(path, data: str | bytes) -> str:
    """Write ``data`` (text as UTF-8, or bytes) to ``path`` atomically; return the path."""
    path = check_path(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise SymdiffError(f"cannot write {path}: it is a directory")
    if not os.path.isdir(folder):
        raise SymdiffError(f"cannot write {path}: the folder {folder} does not exist")
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    try:
        fd, temporary = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".",
                                         suffix=".tmp", dir=folder)
    except OSError as exc:
        raise SymdiffError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException as exc:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise SymdiffError(f"cannot write {path}: {exc.strerror}") from None
        raise
    return path


def read_source(path: str, limit: int) -> str:
    """The text of a ``.py`` file: a regular file only (a FIFO or a device would block or never
    end), decoded as UTF-8, at most ``limit`` characters (one more is read to tell)."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise ParseError(f"cannot read {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ParseError(f"cannot read {path}: not a regular file")
    try:
        # O_NONBLOCK: should the path be swapped for a FIFO after the check, open() still
        # returns at once instead of waiting for a writer.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise ParseError(f"cannot read {path}: not a regular file")
            with os.fdopen(fd, "rb", closefd=False) as handle:
                raw = handle.read(4 * limit + 4)
        finally:
            os.close(fd)
    except OSError as exc:
        raise ParseError(f"cannot read {path}: {exc.strerror}") from None
    if len(raw) > 4 * limit:  # certainly too long: the caller reports the length
        return raw.decode("utf-8", errors="replace")[:limit + 1]
    try:
        return raw.decode("utf-8")[:limit + 1]
    except UnicodeDecodeError as exc:
        raise ParseError(f"cannot read {path}: it is not UTF-8 text (byte {exc.start} is "
                           f"0x{raw[exc.start]:02x}); save it as UTF-8") from None


def same_file(a: str, b: str) -> bool:
    """Whether two paths name the same existing file."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)
