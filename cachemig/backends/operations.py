"""Operator actions on a migrating cache: warm the new side, compare both sides (``manage.py cachemig``)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from cachemig.backends.migrating import MigratingCache, mismatch_kind
from cachemig.backends.sides import FAILED, MISSING, list_keys, remaining_timeout


@dataclass
class WarmReport:
    """What a warm run copied."""

    scanned: int = 0
    copied: int = 0
    already_there: int = 0
    failed: int = 0
    note: str = ""


@dataclass
class CompareReport:
    """What a compare run found."""

    sampled: int = 0
    same: int = 0
    mismatches: dict[str, int] = field(default_factory=lambda: {"value": 0, "missing_new": 0, "missing_legacy": 0})
    examples: list[dict[str, str]] = field(default_factory=list)
    note: str = ""


def _key_match(cache: MigratingCache) -> str | None:
    # With Django's default key function every made key starts with "<prefix>:"; skip foreign Redis keys.
    from django.core.cache.backends.base import default_key_func

    return f"{cache.key_prefix}:" if cache.key_func is default_key_func else None


def cache_warm(*, cache: MigratingCache, limit: int = 100_000, dry_run: bool = False) -> WarmReport:
    """Copy keys the legacy side holds and the new side lacks, keeping their remaining timeouts."""
    keys, note = list_keys(cache.legacy, limit=limit, match=_key_match(cache))
    report = WarmReport(note=note)
    if keys is None:
        return report
    for key in keys:
        report.scanned += 1
        value = cache.legacy.get(key, MISSING)
        if value is MISSING:
            continue
        if dry_run:
            present = cache.call_new("warm", cache.new.has_key, key, routed=False)
            report.already_there += int(present is True)
            report.copied += int(present is False)
            continue
        ttl = remaining_timeout(cache.legacy, key, cache.options.warm_timeout)
        added = cache.call_new("warm", cache.new.add, key, value, ttl, routed=False)
        if added is FAILED:
            report.failed += 1
        elif added:
            report.copied += 1
        else:
            report.already_there += 1
    return report


def cache_compare(*, cache: MigratingCache, sample: int = 1000, seed: int | None = None) -> CompareReport:
    """Read a sample of the keys of both sides from each side and count where they disagree."""
    match = _key_match(cache)
    legacy_keys, legacy_note = list_keys(cache.legacy, limit=sample * 10, match=match)
    new_keys = cache.call_new("compare", lambda: list_keys(cache.new, limit=sample * 10, match=match), routed=False)
    new_list, new_note = (None, "new side unreachable") if new_keys is FAILED else new_keys
    report = CompareReport(note=f"legacy: {legacy_note}; new: {new_note}")
    universe = sorted(set(legacy_keys or []) | set(new_list or []))
    chosen = random.Random(seed).sample(universe, min(sample, len(universe)))
    for key in chosen:
        legacy_value = cache.legacy.get(key, MISSING)
        new_value = cache.call_new("compare", cache.new.get, key, MISSING, routed=False)
        if new_value is FAILED:
            report.note += "; stopped: the new side failed"
            break
        report.sampled += 1
        kind = mismatch_kind(new_value, legacy_value)
        if kind is None:
            report.same += 1
            continue
        report.mismatches[kind] += 1
        if len(report.examples) < 20:
            report.examples.append({"key": key, "kind": kind})
    return report
