"""Signed checkpoints of the chain head, kept in a store apart from the database (a directory).

A checkpoint says "the chain reached seq N with hash H at time T", signed with the
key ring. Deleting the tail of the table cannot delete the checkpoint, so
verification notices truncation.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone

from audit import chain, conf

log = logging.getLogger("resync.audit")
_PREFIX = "checkpoint-"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A signed head of the chain."""

    seq: int
    hash: str
    created_at: str


def _path_for(directory: Path, seq: int) -> Path:
    return directory / f"{_PREFIX}{seq:020d}.json"


def checkpoint_write(*, seq: int, chain_hash: str) -> Checkpoint | None:
    """Sign and store the head ``(seq, hash)``; return it (None for an empty chain)."""
    if seq <= 0:
        return None
    directory = conf.checkpoint_dir()
    directory.mkdir(parents=True, exist_ok=True)
    document = chain.sign_document(
        {"seq": seq, "hash": chain_hash, "created_at": chain.format_timestamp(timezone.now())}
    )
    path = _path_for(directory, seq)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(json.dumps(document))
    os.replace(tmp, path)
    _prune(directory)
    return Checkpoint(seq=seq, hash=chain_hash, created_at=document["created_at"])


def _prune(directory: Path) -> None:
    files = sorted(directory.glob(f"{_PREFIX}*.json"))
    for old in files[: max(0, len(files) - int(conf.get("AUDIT_CHECKPOINT_KEEP")))]:
        old.unlink(missing_ok=True)


def checkpoints_read() -> tuple[list[Checkpoint], list[str]]:
    """Return the stored checkpoints, newest first, and the names of files that fail their signature."""
    directory = conf.checkpoint_dir()
    found: list[Checkpoint] = []
    forged: list[str] = []
    for path in sorted(directory.glob(f"{_PREFIX}*.json"), reverse=True):
        try:
            document = json.loads(path.read_text())
        except (OSError, ValueError):
            forged.append(path.name)
            continue
        if not isinstance(document, dict) or not chain.document_signed(document):
            forged.append(path.name)
            continue
        found.append(
            Checkpoint(seq=int(document["seq"]), hash=str(document["hash"]), created_at=document["created_at"])
        )
    return found, forged


class CheckpointPolicy:
    """Decide when the head deserves a new checkpoint: every N entries or T seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_seq = -1
        self._last_at = 0.0

    def due(self, seq: int) -> bool:
        """Return whether a checkpoint at ``seq`` is due (and note it as taken)."""
        with self._lock:
            if self._last_seq < 0:
                latest, _ = checkpoints_read()
                self._last_seq = latest[0].seq if latest else 0
                self._last_at = time.monotonic()
            elapsed = time.monotonic() - self._last_at
            if seq <= self._last_seq:
                return False
            if seq - self._last_seq >= int(conf.get("AUDIT_CHECKPOINT_EVERY")) or elapsed >= float(
                conf.get("AUDIT_CHECKPOINT_SECONDS")
            ):
                self._last_seq, self._last_at = seq, time.monotonic()
                return True
            return False

    def reset(self) -> None:
        """Forget what was taken (tests, a new checkpoint directory)."""
        with self._lock:
            self._last_seq = -1
