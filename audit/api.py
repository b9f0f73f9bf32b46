"""REST endpoints of audit (mounted by resync_site/api.py)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["audit"])
