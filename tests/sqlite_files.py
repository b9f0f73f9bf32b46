"""Search what an SQLite database holds on disk without breaking the locks of this process's connections.

POSIX advisory locks belong to a process and an inode, and closing *any* descriptor of the file
releases all of them (https://www.sqlite.org/howtocorrupt.html §2.2). SQLite works around that for
its own connections; ``Path.read_bytes()`` or ``open()`` on a live database does not. Afterwards
the test process holds no lock on the file, so a connection closing in another process (the
pipeline child, a worker) believes it is the last one, checkpoints, and deletes the WAL that this
process's connections still write to: later reads see "database disk image is malformed"
(docs/decisions/websocket-db-threads.md). Every raw search of a database goes through here.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

_READ = "import sys; from pathlib import Path; [sys.stdout.buffer.write(Path(p).read_bytes()) for p in sys.argv[1:]]"


def database_image(path: str | Path) -> bytes:
    """Return the pages of database ``path`` as a copy taken by SQLite's backup API (its current state)."""
    with closing(sqlite3.connect(path)) as source, closing(sqlite3.connect(":memory:")) as copy:
        source.backup(copy)
        return copy.serialize()


def raw_files(path: str | Path) -> bytes:
    """Return the raw bytes of database ``path`` and its ``-wal`` file, read by another process.

    The WAL keeps earlier versions of pages that the image no longer shows; a child process can
    open and close the files freely, since its (absent) locks are not this process's.
    """
    files = [str(p) for p in (Path(path), Path(f"{path}-wal")) if p.exists()]
    done = subprocess.run([sys.executable, "-c", _READ, *files], capture_output=True, check=True)
    return done.stdout


def stored_bytes(path: str | Path) -> bytes:
    """Return everything database ``path`` holds: the backup-API image and the raw files read by a child."""
    return database_image(path) + raw_files(path)
