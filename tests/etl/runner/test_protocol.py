"""The line protocol and the line splitter, on their own."""

from __future__ import annotations

import asyncio

from etl.runner.lines import pump_lines
from etl.runner.protocol import decode, estimate_progress, parse


def test_protocol_lines_give_level_system_and_message() -> None:
    assert parse("[ERROR] [MAPS] login refused", "x") == parse("[ERROR] [MAPS] login refused", "y")
    line = parse("[WARNING] [FIDC] slow server", "maps")
    assert (line.level, line.system, line.message) == ("WARNING", "fidc", "slow server")
    assert parse("[WARN] [FIDC] short form", "maps").level == "WARNING"


def test_other_lines_are_info_for_the_current_system() -> None:
    line = parse("Traceback (most recent call last):", "amplis")
    assert (line.level, line.system, line.message) == ("INFO", "amplis", "Traceback (most recent call last):")
    assert parse("[TRACE] [MAPS] unknown level", "maps").level == "INFO"


def test_progress_lines_announce_a_percentage() -> None:
    line = parse("[PROGRESS] [MAPS] 45 Processando arquivo 3/7", "maps")
    assert (line.progress, line.system, line.message) == (45, "maps", "Processando arquivo 3/7")
    assert parse("[PROGRESS] [MAPS] 250 too much", "maps").progress == 100


def test_progress_is_estimated_from_typical_runs_and_never_reaches_100_early() -> None:
    assert estimate_progress(50, 200) == 25
    assert estimate_progress(500, 200) == 99
    assert estimate_progress(10, None) == 0


def test_decode_replaces_bad_bytes_and_marks_cut_lines() -> None:
    assert decode(b"ol\xe1\r", 4, 100) == "ol\ufffd"
    assert decode(b"abc", 1000, 3) == "abc [... line cut: 1000 bytes, kept the first 3]"
    assert decode(b"a\x00b", 3, 10) == "a\ufffdb"


async def _split(data: bytes, chunk_limit: int) -> list[tuple[bytes, int]]:
    reader = asyncio.StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    out: list[tuple[bytes, int]] = []
    await pump_lines(reader, chunk_limit, lambda raw, total: out.append((raw, total)))
    return out


async def test_the_splitter_keeps_heads_of_long_lines_and_the_last_unterminated_line() -> None:
    data = b"short\n" + b"y" * 200_000 + b"\nnext\n" + b"z" * 10
    assert await _split(data, 1000) == [(b"short", 5), (b"y" * 1000, 200_000), (b"next", 4), (b"z" * 10, 10)]


async def test_the_splitter_handles_empty_lines_and_a_long_unterminated_tail() -> None:
    assert await _split(b"\n\nx\n" + b"w" * 5000, 100) == [(b"", 0), (b"", 0), (b"x", 1), (b"w" * 100, 5000)]
