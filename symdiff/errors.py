"""The exceptions symdiff raises for user mistakes.

Every user-facing problem is a :class:`SymdiffError`; source problems carry the line, the column and a
caret under the offending text so that the CLI can print them without a traceback.
"""

from __future__ import annotations


class SymdiffError(Exception):
    """Base class of every error symdiff reports to its users."""


class SourceError(SymdiffError):
    """A problem located in the user's source text (line and column are 1-based)."""

    def __init__(self, message: str, source: str | None = None, line: int | None = None,
                 col: int | None = None, filename: str | None = None):
        self.message = message
        self.source = source
        self.line = line
        self.col = col
        self.filename = filename
        super().__init__(self._format())

    def moved(self, filename: str, source: str | None, line: int | None,
              col: int | None) -> SourceError:
        """The same error at its place in a file: ``userfns.py:9:5: message`` and the file's line."""
        self.filename, self.source, self.line, self.col = filename, source, line, col
        self.args = (self._format(),)
        return self

    def _format(self) -> str:
        if self.filename is not None:  # as Python's tracebacks and compilers name a place
            text = f"{self.filename}:{self.line}:{self.col}: {self.message}" if self.line \
                else f"{self.filename}: {self.message}"
        elif self.line is None:
            return self.message
        else:
            text = f"{self.message} (line {self.line}, column {self.col})"
        snippet = _source_line(self.source, self.line) if self.line else None
        if snippet is None:
            return text
        shown, caret_at = _clip(snippet, (self.col or 1) - 1)
        return f"{text}\n    {shown}\n    {' ' * caret_at}^"


class ParseError(SourceError):
    """The source uses syntax or a name that symdiff does not accept."""


class ShapeError(SourceError):
    """Operand shapes do not fit the operation (the message names both shapes)."""


class GraphShapeError(ShapeError):
    """Shapes that do not fit, found while building a node; the frontend adds the location."""


class InputError(SymdiffError):
    """The arguments passed to a compiled function (or to ``wrt``) do not fit the program."""


def _source_line(source: str | None, line: int) -> str | None:
    if not source:
        return None
    lines = source.splitlines()
    if 1 <= line <= len(lines):
        return lines[line - 1].expandtabs(1)
    return None


def _clip(text: str, col: int, width: int = 72) -> tuple[str, int]:
    """Cut a long source line to a window around ``col`` so the caret stays readable."""
    if len(text) <= width:
        return text, min(col, len(text))
    start = max(0, min(col - width // 2, len(text) - width))
    shown = text[start:start + width]
    prefix = "..." if start else ""
    suffix = "..." if start + width < len(text) else ""
    return prefix + shown + suffix, len(prefix) + col - start
