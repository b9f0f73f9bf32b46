"""Use cases that change etl state (one audited write path for API, admin, tasks and commands)."""

from __future__ import annotations

from etl.services.credentials import (
    ConnectionCheck,
    credential_delete,
    credential_save,
    credential_test,
    credential_validate,
    credentials_reencrypt,
    credentials_save_many,
)
from etl.services.jobs import job_cancel, job_claim, job_execute, job_finish, job_heartbeat, job_rerun, job_rerun_failed
from etl.services.positions import positions_load
from etl.services.reaping import job_reap, job_requeue, jobs_reap
from etl.services.retention import log_lines_purge
from etl.services.steps import step_finish, step_lines_append, step_start
from etl.services.systems import (
    folder_prepare,
    folders_problem,
    fund_delete,
    fund_save,
    funds_set_active,
    path_delete,
    path_save,
    system_option_update,
    system_save,
    system_toggle,
)
from etl.services.workers import job_enqueue

__all__ = [
    "ConnectionCheck",
    "credential_delete",
    "credential_save",
    "credential_test",
    "credential_validate",
    "credentials_reencrypt",
    "credentials_save_many",
    "folder_prepare",
    "folders_problem",
    "fund_delete",
    "fund_save",
    "funds_set_active",
    "job_cancel",
    "job_claim",
    "job_enqueue",
    "job_execute",
    "job_finish",
    "job_heartbeat",
    "job_reap",
    "job_requeue",
    "job_rerun",
    "job_rerun_failed",
    "jobs_reap",
    "log_lines_purge",
    "path_delete",
    "path_save",
    "positions_load",
    "step_finish",
    "step_lines_append",
    "step_start",
    "system_option_update",
    "system_save",
    "system_toggle",
]
