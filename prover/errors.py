"""One exception root for prover; each subclass also inherits the matching built-in.

Input errors carry where they happened (file, line, column) and what would be valid,
so the command line can print one clear line per problem and never a traceback.
"""

from __future__ import annotations


class ProverError(Exception):
    """Root of every error prover raises on purpose."""


class InputError(ProverError, ValueError):
    """A conjecture file (or command-line argument) is not acceptable.

    ``path``, ``line`` and ``column`` (1-based) locate the problem when known.
    """

    def __init__(self, message: str, *, path: str | None = None,
                 line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.column = column

    def located(self, path: str | None = None, line: int | None = None,
                column: int | None = None) -> "InputError":
        """Return a copy with location fields filled in where still missing."""
        err = type(self)(self.message,
                         path=self.path or path,
                         line=self.line if self.line is not None else line,
                         column=self.column if self.column is not None else column)
        for key, value in vars(self).items():
            if key not in ("message", "path", "line", "column"):
                setattr(err, key, value)
        return err

    def __str__(self) -> str:
        where = ""
        if self.path:
            # a file name may hold a newline: written as an escape, it cannot fake a line
            where = str(self.path).replace("\n", "\\n").replace("\r", "\\r")
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            where += ": "
        return where + self.message


class ExprError(InputError):
    """A syntax or type error in an expression.

    ``offset`` is the 0-based character index into the expression text.
    """

    def __init__(self, message: str, offset: int = 0, **kwargs):
        super().__init__(message, **kwargs)
        self.offset = offset


class StoreError(ProverError, OSError):
    """A certificate store entry cannot be read or written."""


class MalformedCertificate(StoreError):
    """A stored certificate exists but is not a well-formed certificate (not a regular
    file, too large, not UTF-8 or JSON, nested too deeply, wrong shape).

    ``path`` is the file and ``reason`` says what is wrong with it."""

    def __init__(self, message: str, *, path: str = "", reason: str = ""):
        super().__init__(message)
        self.path = path
        self.reason = reason or message

    def __str__(self) -> str:
        return self.args[0] if self.args else self.reason


class SolverUnavailable(ProverError, ImportError):
    """A solver backend's Python package is not importable."""
