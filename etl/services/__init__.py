"""Use cases that change etl state (one audited write path for API, admin, tasks and commands)."""

from __future__ import annotations

from etl.services.credentials import credential_delete, credential_save, credentials_reencrypt, credentials_save_many
from etl.services.jobs import job_cancel, job_execute, job_rerun
from etl.services.systems import (
    fund_delete,
    fund_save,
    funds_set_active,
    path_delete,
    path_save,
    system_option_update,
    system_save,
    system_toggle,
)

__all__ = [
    "credential_delete",
    "credential_save",
    "credentials_reencrypt",
    "credentials_save_many",
    "fund_delete",
    "fund_save",
    "funds_set_active",
    "job_cancel",
    "job_execute",
    "job_rerun",
    "path_delete",
    "path_save",
    "system_option_update",
    "system_save",
    "system_toggle",
]
