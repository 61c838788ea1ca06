"""Atomic, private writes, and an error that names what could not be written."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from auditor.files import WriteError, write_atomic
from auditor.pricing.cache import write_cache


def test_a_file_is_written_whole_and_private(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "report.json"
    write_atomic(target, "{}\n", "the report")
    assert target.read_text() == "{}\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["report.json"]


def test_a_failed_write_leaves_nothing_behind_and_the_old_file_intact(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text("old")

    def broken(handle: object) -> None:
        raise RuntimeError("renderer bug")

    with pytest.raises(RuntimeError):
        write_atomic(target, broken, "the report")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_a_price_cache_that_cannot_be_written_says_so_not_the_report(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(WriteError, match=r"^cannot write the price cache to .*prices\.json"):
        write_cache(blocker / "prices.json", {"prices": {}})


def test_a_device_is_written_through_and_stays_a_device() -> None:
    """Recorded as root: --output /dev/full replaced the device with a regular file."""
    with pytest.raises(WriteError, match=r"cannot write the report to /dev/full: No space left"):
        write_atomic(Path("/dev/full"), "{}\n", "the report")
    assert Path("/dev/full").is_char_device()
    write_atomic(Path("/dev/null"), "{}\n", "the report")
    assert Path("/dev/null").is_char_device()


def test_a_symlink_and_a_fifo_are_written_through(tmp_path: Path) -> None:
    tonight = tmp_path / "2026-11-29.json"
    tonight.write_text("")
    latest = tmp_path / "latest.json"
    latest.symlink_to(tonight)
    write_atomic(latest, "{}\n", "the report")
    assert latest.is_symlink() and tonight.read_text() == "{}\n"
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    received: list[str] = []
    reader.start()
    write_atomic(fifo, "{}\n", "the report")
    reader.join(timeout=60)
    assert received == ["{}\n"] and stat.S_ISFIFO(fifo.stat().st_mode)
