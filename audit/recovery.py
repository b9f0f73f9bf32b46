"""Keep entries that could not be committed at shutdown, and seal them at the next start."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from audit import conf
from audit.sealing import entries_seal
from audit.services import Draft

log = logging.getLogger("resync.audit")


def spill_write(drafts: list[Draft]) -> Path | None:
    """Write ``drafts`` (payloads stay encrypted) to a new spill file, mode 0600; return its path."""
    if not drafts:
        return None
    directory = conf.spill_dir()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / f"spill-{time.time_ns()}-{os.getpid()}.jsonl"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        for draft in drafts:
            handle.write(json.dumps(draft.to_json()) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return path


def spill_recover() -> int:
    """Seal the entries of every spill file (oldest first), then remove the file; return how many."""
    directory = conf.spill_dir()
    total = 0
    for path in sorted(directory.glob("spill-*.jsonl")) if directory.is_dir() else []:
        drafts = [Draft.from_json(json.loads(line)) for line in path.read_text().splitlines() if line.strip()]
        result = entries_seal(drafts=drafts, check_duplicates=True)
        path.unlink()
        total += len(drafts)
        log.warning(
            "audit: sealed %s entries kept at last shutdown (%s), head at seq %s",
            len(drafts),
            path.name,
            result.last_seq,
        )
    return total
