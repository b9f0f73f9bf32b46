"""The rollout guard of TWS_UNIFIED_V2_ENABLED: error ratio and circuit opens of the v2 path."""

from __future__ import annotations

from cachemig import flags

MAX_ERROR_RATIO = 0.05


def unified_v2_guard() -> flags.GuardReport:
    """Return whether the v2 path is healthy enough to keep rolling out."""
    from tws.hwa.client import guard_report_figures

    figures = {k: float(v) for k, v in guard_report_figures().items()}
    if figures["circuit_opens"] > 0:
        return flags.GuardReport(ok=False, figures=figures, reason=f"circuit opened {figures['circuit_opens']:g} times")
    if figures["calls"] >= 20 and figures["error_ratio"] > MAX_ERROR_RATIO:
        return flags.GuardReport(
            ok=False, figures=figures, reason=f"v2 error ratio {figures['error_ratio']:.1%} above {MAX_ERROR_RATIO:.0%}"
        )
    return flags.GuardReport(ok=True, figures=figures, reason="")
