"""A ready-made guard for owning apps: thresholds over call figures since the flag's last stage.

An app registers one with
``flags.register_guard(FLAG, RatioGuard(FLAG, source=its_figures))`` where
``source(since)`` returns the :class:`CallFigures` of the new path since
``since``. Read them from shared storage, so that the worker process that
sweeps guards sees the calls of every web process: ``flags.SharedCallFigures``
does (the tws app's guard of TWS_UNIFIED_V2_ENABLED uses it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from cachemig.flags.evaluation import stage_started_at
from cachemig.flags.registry import GuardReport


@dataclass(frozen=True)
class CallFigures:
    """Outcomes of the new path's calls over a period."""

    calls: int = 0
    errors: int = 0
    fallbacks: int = 0
    circuit_opens: int = 0


FiguresSource = Callable[[datetime | None], CallFigures]


@dataclass(frozen=True)
class RatioGuard:
    """Breached when the error or fallback ratio, or the circuit opens, pass their limits."""

    flag: str
    source: FiguresSource
    max_error_ratio: float = 0.05
    max_fallback_ratio: float = 0.10
    max_circuit_opens: int = 0
    min_calls: int = 100

    def __call__(self) -> GuardReport:
        """Measure since the flag's current stage began and judge the figures."""
        figures = self.source(stage_started_at(self.flag))
        calls = max(figures.calls, 0)
        error_ratio = figures.errors / calls if calls else 0.0
        fallback_ratio = figures.fallbacks / calls if calls else 0.0
        measured = {
            "calls": float(calls),
            "min_calls": float(self.min_calls),
            "error_ratio": round(error_ratio, 4),
            "max_error_ratio": self.max_error_ratio,
            "fallback_ratio": round(fallback_ratio, 4),
            "max_fallback_ratio": self.max_fallback_ratio,
            "circuit_opens": float(figures.circuit_opens),
            "max_circuit_opens": float(self.max_circuit_opens),
        }
        problems = []
        # Too few calls is no evidence of a breach (auto rollback stays quiet); the rollout gate refuses on it.
        if calls >= self.min_calls and error_ratio > self.max_error_ratio:
            problems.append(f"error ratio {error_ratio:.1%} > {self.max_error_ratio:.1%}")
        if calls >= self.min_calls and fallback_ratio > self.max_fallback_ratio:
            problems.append(f"fallback ratio {fallback_ratio:.1%} > {self.max_fallback_ratio:.1%}")
        if figures.circuit_opens > self.max_circuit_opens:
            problems.append(f"circuit opened {figures.circuit_opens} times > {self.max_circuit_opens}")
        if problems:
            return GuardReport(ok=False, figures=measured, reason="; ".join(problems))
        return GuardReport(ok=True, figures=measured, reason=f"{calls} calls within limits")
