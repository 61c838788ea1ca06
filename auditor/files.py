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
    `content` is the text, or a function that writes it to the open file."""
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
