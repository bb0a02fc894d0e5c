"""Where a program's text came from: its places in the user's file.

``path.py:function`` and a Python function object are parsed as one combined text (the function
after the same-file helpers it calls), each piece dedented. An :class:`Origin` maps a line and
column of that text back to the file's own, so that every error names the file and its line as
Python's tracebacks do (``userfns.py:9:5: unsupported syntax ...``) with the file's line and a caret.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..errors import SourceError


@dataclass
class Piece:
    """One piece of the combined text: lines ``first .. first + count - 1`` of it are the file's
    lines from ``file_line`` on, with ``shift`` columns of indentation removed (``first_shift``
    on its first line, where the piece starts inside a line: a lambda written as ``f = lambda``)."""

    first: int
    count: int
    file_line: int
    shift: int = 0
    first_shift: int | None = None


@dataclass
class Origin:
    """The file a program was read from, its text (for the caret line) and the pieces."""

    filename: str
    text: str
    pieces: list[Piece] = field(default_factory=list)

    def add(self, combined: str, piece_text: str, file_line: int, shift: int = 0,
            first_shift: int | None = None, count: int | None = None) -> str:
        """Append ``piece_text`` to the combined text (after a blank line) and record where its
        first ``count`` lines (default: all) are in the file."""
        joined = f"{combined}\n\n{piece_text}" if combined else piece_text
        first = joined.count("\n", 0, len(joined) - len(piece_text)) + 1
        count = piece_text.count("\n") + 1 if count is None else count
        self.pieces.append(Piece(first, count, file_line, shift, first_shift))
        return joined

    @property
    def key(self) -> tuple:
        """What tells two origins apart (the compile cache keys programs by text and origin)."""
        return (self.filename, *((p.first, p.count, p.file_line, p.shift, p.first_shift)
                                 for p in self.pieces))

    def locate(self, line: int, col: int | None) -> tuple[int, int | None] | None:
        """The file's line and column of a place in the combined text (None: not in a piece)."""
        for piece in self.pieces:
            if piece.first <= line < piece.first + piece.count:
                offset = line - piece.first
                shift = piece.first_shift if offset == 0 and piece.first_shift is not None \
                    else piece.shift
                return piece.file_line + offset, None if col is None else max(1, col + shift)
        return None

    def relocate(self, exc: SourceError) -> SourceError:
        """The error at its place in the file (errors placed already are left as they are)."""
        if exc.filename is not None:
            return exc
        place = self.locate(exc.line, exc.col) if exc.line is not None else None
        if place is None:  # no line, or a line symdiff wrote itself (a helper's second name)
            return exc.moved(self.filename, None, None, None)
        return exc.moved(self.filename, self.text, *place)


def display_path(path: str) -> str:
    """A file's name as a user reads it: relative to the working folder when inside it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return path
    return path if relative.startswith(os.pardir) else relative
