"""The VM's public exception for DPB files.

One family, one class: anything wrong with a DPB file (unreadable,
truncated, corrupt, wrong version, structurally invalid) or with a module
handed to the writer raises ``DpbError``.  Callers catch one type and the
message always says which file and what is wrong, so a user seeing it can act
on it without a traceback.
"""

from __future__ import annotations


class DpbError(Exception):
    """A DPB file (or a module being written as one) is unusable.

    ``path`` names the file, or a placeholder such as ``"<bytes>"`` for
    in-memory data and ``"<to_bytes>"`` for the writer; ``reason`` says what
    is wrong in words a user can act on.
    """

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(path, reason)
        self.path = path
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class DpbCompileError(Exception):
    """Source uses a construct the DPB compiler does not support (yet).

    Raised at compile time, never deferred to run time, so that ``dxpy run
    --fallback`` can hand the module to CPython instead of producing a wrong
    result.  ``filename`` and ``lineno`` locate the construct; ``construct``
    names it in words.
    """

    def __init__(self, filename: str, lineno: int, construct: str) -> None:
        super().__init__(filename, lineno, construct)
        self.filename = filename
        self.lineno = lineno
        self.construct = construct

    def __str__(self) -> str:
        return f"{self.filename}:{self.lineno}: {self.construct} is not supported by the DPB compiler yet"
