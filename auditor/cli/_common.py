"""Shared CLI plumbing: the exit-code contract, error lines, console and progress."""

from __future__ import annotations

import functools
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from auditor.errors import ExitCode, InputError

F = TypeVar("F", bound=Callable[..., Any])
console = Console(stderr=True, highlight=False, soft_wrap=True)
# Errors and the verdict line go here: ``--quiet`` silences ``console`` only.
loud = Console(stderr=True, highlight=False, soft_wrap=True)
STATE = {"debug": False, "verbose": False, "quiet": False}


def set_quiet(quiet: bool) -> None:
    STATE["quiet"] = quiet
    console.quiet = quiet


def fail_input(message: str) -> typer.Exit:
    loud.print(f"[bold red]error:[/] {message}", markup=True, emoji=False)
    return typer.Exit(int(ExitCode.INPUT_ERROR))


def guarded(command: F) -> F:
    """Map exceptions to the exit-code contract: 2 for input errors, 3 for bugs."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except InputError as exc:
            if STATE["debug"]:
                traceback.print_exc()
            raise fail_input(exc.one_line()) from None
        except (typer.Exit, typer.Abort):
            raise
        except KeyboardInterrupt:
            loud.print("[bold red]interrupted[/] (no report was written)", markup=True, emoji=False)
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except Exception as exc:
            if STATE["debug"]:
                traceback.print_exc()
            loud.print(
                f"[bold red]internal error:[/] {type(exc).__name__}: {' '.join(str(exc).split())[:200]} "
                "(a bug in auditor; rerun with --debug for the traceback)",
                markup=True,
                emoji=False,
            )
            raise typer.Exit(int(ExitCode.INTERNAL_ERROR)) from None

    return wrapper  # type: ignore[return-value]


def split_list(values: list[str] | None) -> list[str] | None:
    """``--format pdf,json --format html`` -> ['pdf', 'json', 'html']."""
    if not values:
        return None
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


class ConsoleProgress:
    """Rich progress bars on a terminal; one line per finished stage otherwise (CI logs)."""

    def __init__(self) -> None:
        self._live = console.is_terminal and not STATE["debug"]
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._stage = ""
        self._unit = ""
        self._started = 0.0
        self._done = 0

    def begin(self, stage: str, total: int | None = None, unit: str = "") -> None:
        self._finish_bar()
        self._stage, self._unit, self._started, self._done = stage, unit, time.perf_counter(), 0
        if self._live:
            self._bar = Progress(
                SpinnerColumn(),
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(stage, total=total, rate="")

    def advance(self, amount: int = 1) -> None:
        self._done += amount
        if self._bar is not None and self._task is not None:
            elapsed = max(time.perf_counter() - self._started, 1e-9)
            rate = f"{self._done / elapsed:,.0f} {self._unit}/s" if self._unit == "rows" else ""
            self._bar.update(self._task, advance=amount, rate=rate)

    def end(self, status: str) -> None:
        self._finish_bar()
        if not self._stage:
            return
        elapsed = time.perf_counter() - self._started
        detail = ""
        if self._done and self._unit:
            detail = f", {self._done:,} {self._unit}"
            if self._unit == "rows":
                detail += f" ({self._done / max(elapsed, 1e-9):,.0f} rows/s)"
        mark = "[green]✓[/]" if status == "ok" else "[red]✗[/]"
        console.print(f"{mark} {self._stage}: {status} in {elapsed:.1f} s{detail}", markup=True, emoji=False)
        self._stage = ""

    def _finish_bar(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def command_line() -> str:
    return " ".join(["audit", *sys.argv[1:]])


SIGN_KEY_HELP = (
    "Private key (PEM: Ed25519, ECDSA or RSA) that signs the whole PDF (PAdES); an Ed25519 key also signs "
    "the evidence digest."
)
SIGN_CERT_HELP = "X.509 certificate (PEM) for --sign-key to embed in the PDF signature (default: self-signed)."


def signing_files(key_path: Path | None, cert_path: Path | None) -> tuple[bytes | None, bytes | None]:
    """Read and check ``--sign-key`` and ``--sign-cert`` before any work."""
    from auditor.signing import check_signing_files, read_key_file

    if cert_path is not None and key_path is None:
        raise InputError("--sign-cert needs --sign-key")
    if key_path is None:
        return None, None
    key = read_key_file(key_path)
    cert = read_key_file(cert_path) if cert_path is not None else None
    check_signing_files(key, cert, str(key_path), None if cert_path is None else str(cert_path))
    return key, cert


def deprecated_format(value: str, command: str) -> str:
    """``-f`` for a stdout format (scan, history) is deprecated: ``-f`` means output files, as in ``audit run``."""
    loud.print(
        f"warning: -f/--format in audit {command} is deprecated and will mean output files, as in audit run; "
        "use --output-format",
        markup=False,
        emoji=False,
    )
    return value
