"""Raw searches of a live database keep this process's SQLite locks (docs/decisions/websocket-db-threads.md)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

from tests.sqlite_files import stored_bytes

WRITE_AND_CLOSE = """
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("INSERT INTO t VALUES ('from the other process')")
c.commit()
c.close()
"""


def _search_then_another_process_closes(tmp_path: Path, search: Callable[[Path], bytes]) -> tuple[bytes, bool]:
    """Search a database this process has open in WAL mode, then let another process write and close.

    Return what the search found and whether the WAL survived: the other process deletes it on
    close only when it believes it was the database's last connection.
    """
    db = tmp_path / "live.sqlite3"
    with closing(sqlite3.connect(db, isolation_level=None)) as ours:
        ours.execute("PRAGMA journal_mode=WAL")
        ours.execute("CREATE TABLE t (x TEXT)")
        ours.execute("INSERT INTO t VALUES ('a row of ours')")
        found = search(db)
        subprocess.run([sys.executable, "-c", WRITE_AND_CLOSE, str(db)], check=True)
        return found, Path(f"{db}-wal").exists()


def test_reading_the_file_in_this_process_lets_another_process_delete_the_wal_under_us(tmp_path: Path) -> None:
    """The hazard itself: closing any descriptor of the file dropped our locks (howtocorrupt.html §2.2)."""
    _, wal_survived = _search_then_another_process_closes(tmp_path, Path.read_bytes)
    assert not wal_survived


def test_stored_bytes_finds_the_rows_and_keeps_our_locks(tmp_path: Path) -> None:
    found, wal_survived = _search_then_another_process_closes(tmp_path, stored_bytes)
    assert found.count(b"a row of ours") >= 2  # in the backup image and in the raw WAL
    assert wal_survived
