"""Atomic, private writes, and an error that names what could not be written."""

from __future__ import annotations

import stat
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
