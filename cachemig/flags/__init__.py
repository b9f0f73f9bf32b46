"""Feature flags: the one function upper floors call, ``is_enabled(name, key=None)``.

A flag is off, on, or on for a percentage of keys bucketed exactly as Unleash's
gradual rollout (murmur3 of ``"<group id>:<key>"``). ``APP_<NAME>=true|false``
beats the database. Owning apps register a guard per flag (usually a
``RatioGuard`` over ``SharedCallFigures``) whose figures gate rollouts and
trigger automatic rollback.
"""

from __future__ import annotations

from cachemig.flags.evaluation import (
    Override,
    env_override,
    invalidate,
    is_enabled,
    normalized_value,
    stage_started_at,
)
from cachemig.flags.figures import SharedCallFigures
from cachemig.flags.guards import CallFigures, RatioGuard
from cachemig.flags.record import DEFAULTS_OF_RECORD, FLAGS_OF_RECORD, FLAGS_OF_RECORD_TABLE, PLANS_OF_RECORD
from cachemig.flags.registry import (
    Guard,
    GuardReport,
    evaluate_guard,
    guard_for,
    register_guard,
    unregister_guard,
)
from cachemig.flags.rollout import gate_verdict, next_stage, rollout_gate

__all__ = [
    "DEFAULTS_OF_RECORD",
    "FLAGS_OF_RECORD",
    "FLAGS_OF_RECORD_TABLE",
    "PLANS_OF_RECORD",
    "CallFigures",
    "Guard",
    "GuardReport",
    "Override",
    "RatioGuard",
    "SharedCallFigures",
    "env_override",
    "evaluate_guard",
    "gate_verdict",
    "guard_for",
    "invalidate",
    "is_enabled",
    "next_stage",
    "normalized_value",
    "register_guard",
    "rollout_gate",
    "stage_started_at",
    "unregister_guard",
]
