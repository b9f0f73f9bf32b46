"""The checkpoint store: an append-only, chained log of signed tree heads, kept apart from the database.

Every sealing batch appends one record: "after this batch the tree had ``size`` entries, root
``root``, last chain hash ``last_hash``" (plus ``from_size``, the size before the batch), signed with
the key ring's Ed25519 tree key. Records are numbered (``n``) and each carries the SHA-256 of the
record before it (``prev``), so a record or a whole file removed, edited or replaced breaks the
numbering, the link or a signature. Records live in segment files ``heads-<first n>.jsonl`` of
``AUDIT_CHECKPOINT_EVERY`` records; the newest ``AUDIT_CHECKPOINT_KEEP`` segments are kept.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils import timezone

from audit import chain, conf
from core import keyring

try:
    import fcntl
except ImportError:  # Windows: the thread lock below is the only guard (one process per store there)
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("resync.audit")
_PREFIX = "heads-"
_SIGNED_OUT = ("signature", "key_id")


@dataclass(frozen=True, slots=True)
class TreeHead:
    """One signed record of the store."""

    n: int
    prev: str
    from_size: int
    size: int
    root: str
    last_hash: str
    timestamp: str
    key_id: str
    signature: str
    line_hash: str = ""

    def document(self) -> dict[str, Any]:
        """Return the record as published (what the signature covers, plus the signature)."""
        return {
            "n": self.n,
            "prev": self.prev,
            "from_size": self.from_size,
            "size": self.size,
            "root": self.root,
            "last_hash": self.last_hash,
            "timestamp": self.timestamp,
            "key_id": self.key_id,
            "signature": self.signature,
        }


def signed_body(document: dict[str, Any]) -> bytes:
    """Return the bytes a tree head's signature covers (canonical JSON without the signature)."""
    body = {k: v for k, v in document.items() if k not in _SIGNED_OUT}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _head_of(document: dict[str, Any], line_hash: str) -> TreeHead:
    return TreeHead(
        n=int(document["n"]),
        prev=str(document["prev"]),
        from_size=int(document["from_size"]),
        size=int(document["size"]),
        root=str(document["root"]),
        last_hash=str(document["last_hash"]),
        timestamp=str(document["timestamp"]),
        key_id=str(document["key_id"]),
        signature=str(document["signature"]),
        line_hash=line_hash,
    )


def _segments(directory: Path) -> list[Path]:
    return sorted(directory.glob(f"{_PREFIX}*.jsonl"))


def _last_line(path: Path) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        end = handle.tell()
        handle.seek(max(0, end - 8192))
        lines = handle.read().splitlines()
    return lines[-1] if lines else b""


class _Appender:
    """Append records under a lock shared by the processes of this machine."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tail: tuple[Path, int, int, str, int] | None = None  # path, file size, n, line hash, lines

    def _tail_of(self, directory: Path) -> tuple[Path | None, int, str, int]:
        segments = _segments(directory)
        if not segments:
            return None, 0, "", 0
        newest = segments[-1]
        size = newest.stat().st_size
        cached = self._tail
        if cached is not None and cached[0] == newest and cached[1] == size:
            return newest, cached[2], cached[3], cached[4]
        content = newest.read_bytes().splitlines()
        last = content[-1] if content else b""
        try:
            number = int(json.loads(last)["n"]) if last else int(newest.stem.removeprefix(_PREFIX)) - 1
        except (ValueError, KeyError, TypeError):
            number = int(newest.stem.removeprefix(_PREFIX)) + len(content) - 1
        return newest, number, hashlib.sha256(last).hexdigest() if last else "", len(content)

    def append(self, *, from_size: int, size: int, root: str, last_hash: str) -> TreeHead:
        directory = conf.checkpoint_dir()
        directory.mkdir(parents=True, exist_ok=True)
        with self._lock, open(directory / ".heads.lock", "a") as lock:
            if fcntl is not None:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            newest, number, prev, lines = self._tail_of(directory)
            body = {
                "n": number + 1,
                "prev": prev,
                "from_size": from_size,
                "size": size,
                "root": root,
                "last_hash": last_hash,
                "timestamp": chain.format_timestamp(timezone.now()),
            }
            key_id, signature = keyring.tree_sign(signed_body(body))
            line = json.dumps({**body, "key_id": key_id, "signature": signature}, separators=(",", ":")).encode()
            if newest is None or lines >= int(conf.get("AUDIT_CHECKPOINT_EVERY")):
                newest = directory / f"{_PREFIX}{number + 1:012d}.jsonl"
                lines = 0
                _prune(directory)
            fd = os.open(newest, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
            try:
                os.write(fd, line + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
            line_hash = hashlib.sha256(line).hexdigest()
            self._tail = (newest, newest.stat().st_size, number + 1, line_hash, lines + 1)
            return _head_of({**body, "key_id": key_id, "signature": signature}, line_hash)

    def forget(self) -> None:
        with self._lock:
            self._tail = None


def _prune(directory: Path) -> None:
    segments = _segments(directory)
    for old in segments[: max(0, len(segments) + 1 - int(conf.get("AUDIT_CHECKPOINT_KEEP")))]:
        old.unlink(missing_ok=True)


_appender = _Appender()


def head_append(*, from_size: int, size: int, root: str, last_hash: str) -> TreeHead | None:
    """Sign and append the tree head after a sealing batch; None (logged) when the store is not writable."""
    try:
        return _appender.append(from_size=from_size, size=size, root=root, last_hash=last_hash)
    except OSError as exc:  # the chain is intact; only the store is behind, and verification will say so
        log.error("audit: tree head at size %s not written to the checkpoint store: %s", size, exc)
        return None


def store_forget() -> None:
    """Forget the cached tail of the store (tests that point the store elsewhere)."""
    _appender.forget()


@dataclass
class StoreRead:
    """The records of the store, in order, and what is wrong with it (``(seq or None, problem)``)."""

    heads: list[TreeHead] = field(default_factory=list)
    problems: list[tuple[int | None, str]] = field(default_factory=list)
    segments: int = 0


def store_read() -> StoreRead:
    """Return every record that verifies, and each break of numbering, link or signature."""
    found = StoreRead()
    directory = conf.checkpoint_dir()
    segments = _segments(directory) if directory.is_dir() else []
    found.segments = len(segments)
    previous: TreeHead | None = None
    for path in segments:
        for number, raw in enumerate(path.read_bytes().splitlines(), start=1):
            where = f"{path.name} line {number}"
            try:
                document = json.loads(raw)
                head = _head_of(document, hashlib.sha256(raw).hexdigest())
            except (ValueError, KeyError, TypeError):
                found.problems.append((None, f"checkpoint store tampered: {where} is unreadable (edited)"))
                continue
            if not keyring.tree_signature_valid(signed_body(document), key_id=head.key_id, signature=head.signature):
                found.problems.append(
                    (head.from_size + 1, f"checkpoint store tampered: {where} fails its signature (edited or forged)")
                )
                continue
            if previous is not None and head.n != previous.n + 1:
                found.problems.append(
                    (
                        previous.size + 1,
                        f"checkpoint store tampered: records {previous.n + 1}..{head.n - 1} are missing before {where}"
                        " (checkpoint file deleted or cut)"
                        if head.n > previous.n
                        else f"checkpoint store tampered: {where} repeats record {head.n} (file replaced)",
                    )
                )
            elif previous is not None and head.prev != previous.line_hash:
                found.problems.append(
                    (head.from_size + 1, f"checkpoint store tampered: {where} does not link to the record before it")
                )
            elif previous is None and head.n != 1 and len(segments) < int(conf.get("AUDIT_CHECKPOINT_KEEP")):
                found.problems.append(
                    (1, f"checkpoint store tampered: records 1..{head.n - 1} are missing (oldest files deleted)")
                )
            found.heads.append(head)
            previous = head
    return found


def tree_head_checked(document: dict[str, Any], report: Any) -> TreeHead | None:
    """Return the tree head of ``document`` if its signature holds; otherwise add a finding to ``report``."""
    try:
        head = _head_of(document, "")
    except (ValueError, KeyError, TypeError):
        report.fail(None, "a tree head carried by the archive is unreadable")
        return None
    if not keyring.tree_signature_valid(signed_body(document), key_id=head.key_id, signature=head.signature):
        report.fail(head.size, f"tree head #{head.n} carried by the archive fails its signature")
        return None
    return head


def _parsed(path: Path, *, size: int | None = None, at_most: int | None = None) -> list[TreeHead]:
    heads: list[TreeHead] = []
    needle = b'"size":%d,' % size if size is not None else b""
    for raw in reversed(path.read_bytes().splitlines()):
        if needle and needle not in raw:
            continue  # cheaper than parsing every record of the segment
        if at_most is not None and len(heads) >= 8:
            break  # the newest records are the largest (a few may be appended out of order)
        try:
            head = _head_of(json.loads(raw), hashlib.sha256(raw).hexdigest())
        except (ValueError, KeyError, TypeError):
            continue  # verification reports it; a proof just does not use it
        if at_most is None or head.size <= at_most:
            heads.append(head)
    return heads


def _first_size(path: Path) -> int:
    with open(path, "rb") as handle:
        try:
            return int(json.loads(handle.readline())["from_size"])
        except (ValueError, KeyError, TypeError):
            return 0


def _signature_holds(head: TreeHead) -> bool:
    return keyring.tree_signature_valid(signed_body(head.document()), key_id=head.key_id, signature=head.signature)


def _pick(candidates: list[TreeHead]) -> TreeHead | None:
    # Proofs read only the segments they need and check only the head they hand out.
    for head in sorted(candidates, key=lambda h: (h.size, h.n), reverse=True):
        if _signature_holds(head):
            return head
    return None


def newest_head(*, at_most: int | None = None) -> TreeHead | None:
    """Return the signed tree head with the largest size (up to ``at_most``), if any."""
    directory = conf.checkpoint_dir()
    segments = _segments(directory) if directory.is_dir() else []
    for path in reversed(segments):
        found = _pick(_parsed(path, at_most=at_most if at_most is not None else 1 << 62))
        if found is not None:
            return found
    return None


def head_of_size(size: int) -> TreeHead | None:
    """Return the newest signed tree head of exactly ``size`` entries, if the store holds one."""
    directory = conf.checkpoint_dir()
    segments = _segments(directory) if directory.is_dir() else []
    starts = [_first_size(path) for path in segments]
    # Sizes grow with the records (processes may append a batch or two out of order): look where it falls.
    chosen = [i for i, first in enumerate(starts) if first <= size and (i + 1 == len(starts) or starts[i + 1] >= size)]
    around = sorted({j for i in chosen for j in (i - 1, i, i + 1) if 0 <= j < len(segments)})
    return _pick([h for j in around for h in _parsed(segments[j], size=size) if h.size == size])
