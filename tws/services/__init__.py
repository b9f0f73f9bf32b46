"""Use cases of the tws app that change state (connection, alerts, plan sync, job actions)."""

from __future__ import annotations

from tws.services.alerts import alert_acknowledge, alert_raise, alerts_raise_many
from tws.services.connection import connection_delete, connection_save, connection_test, reencrypt_connections
from tws.services.jobs import job_act, job_act_and_read, job_actions_allowed, job_log, job_store
from tws.services.plan_sync import plan_store, plan_sync

__all__ = [
    "alert_acknowledge",
    "alert_raise",
    "alerts_raise_many",
    "connection_delete",
    "connection_save",
    "connection_test",
    "job_act",
    "job_act_and_read",
    "job_actions_allowed",
    "job_log",
    "job_store",
    "plan_store",
    "plan_sync",
    "reencrypt_connections",
]
