"""Error types and the exit-code contract shared by every command."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Exit codes, identical for every ``audit`` command (see docs/cli.md)."""

    OK = 0
    NOT_COMPLIANT = 1
    INPUT_ERROR = 2
    INTERNAL_ERROR = 3
    INTERRUPTED = 130


class AuditError(Exception):
    """Base class for errors that auditor raises on purpose."""


class InputError(AuditError):
    """Bad usage, config or input data: exit code 2, one line, no partial outputs.

    ``where`` names the file (and, when known, the field or row) so that the
    single line printed by the CLI tells the user what to fix.
    """

    def __init__(self, message: str, where: str | None = None) -> None:
        self.message = " ".join(message.split())
        self.where = where
        super().__init__(self.one_line())

    def one_line(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class StageError(AuditError):
    """A stage could not produce its result; recorded as data, never raised to the user."""


def require_regular_file(path: object, what: str) -> None:
    """A path auditor reads as a file must be a regular file: never a FIFO (which would block), a device
    (``/dev/zero`` never ends) or a socket. Missing files are left to the caller's own message."""
    import os
    import stat
    from pathlib import Path

    target = Path(str(path))
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc.strerror}", where=str(target)) from None
    if stat.S_ISDIR(mode):
        return
    if not stat.S_ISREG(mode):
        raise InputError(f"{what} is not a regular file (a device, FIFO or socket): refused", where=str(target))
