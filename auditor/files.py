"""Files the auditor writes (reports, the price cache): atomically, so that a reader never
sees half of one, and private, because reports name resources and roles."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from auditor.errors import AuditorError


class WriteError(AuditorError):
    """A file could not be written."""


def write_atomic(path: Path, content: str | Callable[[TextIO], None], what: str) -> None:
    """Write `what` via a temp file in the same directory and rename, with mode 0600.
    `content` is the text, or a function that writes it to the open file.

    Only a regular file (or nothing) is replaced that way. A path that is something else, a
    device (`/dev/stdout`), a FIFO, or a symlink (`latest.json` -> tonight's report), is
    written through, so that the device stays a device and the link a link."""
    if path.is_symlink() or (path.exists() and not path.is_file()):
        _write_through(path, content, what)
        return
    directory = path.parent if str(path.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                if isinstance(content, str):
                    handle.write(content)
                else:
                    content(handle)
            os.chmod(temp, 0o600)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise WriteError(f"cannot write {what} to {path}: {exc.strerror or exc}") from None


def _write_through(path: Path, content: str | Callable[[TextIO], None], what: str) -> None:
    if path.is_dir():
        raise WriteError(f"cannot write {what} to {path}: it is a directory")
    try:
        with path.open("w", encoding="utf-8") as handle:
            if isinstance(content, str):
                handle.write(content)
            else:
                content(handle)
    except OSError as exc:
        raise WriteError(f"cannot write {what} to {path}: {exc.strerror or exc}") from None
