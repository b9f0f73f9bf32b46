"""HWA's wildcards in name filters: ``*`` (REST, Zowe CLI) and ``@`` (conman, v1 queries) match any characters."""

from __future__ import annotations

import re

WILDCARDS = ("*", "@")


def has_wildcard(pattern: str) -> bool:
    """Return whether ``pattern`` uses one of HWA's wildcards."""
    return any(w in pattern for w in WILDCARDS)


def wildcard_pattern(pattern: str) -> str:
    """Return an anchored regular expression for a wildcard name ("" when ``pattern`` has no wildcard)."""
    if not has_wildcard(pattern.strip()):
        return ""
    parts = re.split(r"[*@]", pattern.strip())
    return "^" + ".*".join(re.escape(p) for p in parts) + "$"
