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
