"""The TWS connection and the synced plan: jobs, job streams, workstations, transitions, alerts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from core import keyring

# The longest job id in plan, WORKSTATION;JOBSTREAM_ID;JOBNAME (tws.hwa.ids.JOB_ID_MAX_LENGTH; a test keeps them equal).
JOB_ID_MAX_LENGTH = 74

ALERT_KINDS = [
    ("job_error", "Job ended in error (ABEND)"),
    ("workstation_unlinked", "Workstation unlinked"),
    ("circuit_open", "Circuit to TWS open"),
    ("sync_failing", "Plan sync failing"),
    ("critical_at_risk", "Critical job will miss its critical start"),
]


class TWSConnection(models.Model):
    """A TWS server as saved in the admin (password sealed by the key ring, never shown)."""

    name = models.CharField(max_length=100, unique=True)
    base_url = models.URLField(max_length=300)
    username = models.CharField(max_length=150)
    password_sealed = models.TextField(blank=True, default="", editable=False)
    verify_tls = models.BooleanField(default=True)
    timeout_seconds = models.FloatField(default=10.0)
    is_active = models.BooleanField(default=True, help_text="The active connection is used below env and .env.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "TWS connection"

    def __str__(self) -> str:
        return f"{self.name} ({self.base_url})"

    def __repr__(self) -> str:
        return f"<TWSConnection {self.pk} {self.name!r} password_set={bool(self.password_sealed)}>"

    def password(self) -> str:
        """Return the decrypted password (only to build the connection's settings)."""
        return keyring.decrypt(self.password_sealed, associated_data=b"tws.connection") if self.password_sealed else ""

    def seal_password(self, plaintext: str) -> None:
        """Store ``plaintext`` sealed under the active key."""
        self.password_sealed = keyring.encrypt(plaintext, associated_data=b"tws.connection") if plaintext else ""


class Workstation(models.Model):
    """A workstation in the current plan."""

    name = models.CharField(max_length=200, unique=True)
    hwa_id = models.CharField(max_length=64, blank=True, default="")
    type = models.CharField(max_length=40, default="UNKNOWN")
    link_state = models.CharField(max_length=10, default="unknown")
    limit = models.IntegerField(null=True, blank=True)
    fence = models.IntegerField(null=True, blank=True)
    synced_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class JobStream(models.Model):
    """A job stream instance in the current plan."""

    hwa_id = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200, db_index=True)
    workstation = models.CharField(max_length=200, blank=True, default="")
    synced_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class JobInPlan(models.Model):
    """A job in the current plan, keyed by the serving API's own id for it (tws/hwa/ids.py)."""

    hwa_id = models.CharField(max_length=JOB_ID_MAX_LENGTH, unique=True)
    name = models.CharField(max_length=200, db_index=True)
    job_stream = models.CharField(max_length=200, db_index=True)
    job_stream_hwa_id = models.CharField(max_length=64, blank=True, default="")
    workstation = models.CharField(max_length=200, db_index=True)
    status = models.CharField(max_length=30, db_index=True)
    internal_status = models.CharField(max_length=20, blank=True, default="")
    sched_time = models.DateTimeField(null=True, blank=True)
    start_time = models.DateTimeField(null=True, blank=True)
    end_time = models.DateTimeField(null=True, blank=True)
    return_code = models.IntegerField(null=True, blank=True)
    run_number = models.IntegerField(default=1)
    critical_start = models.DateTimeField(null=True, blank=True, db_index=True)  # set on critical jobs only
    signature = models.CharField(max_length=24, default="", editable=False)  # digest of the fields above
    synced_at = models.DateTimeField()

    class Meta:
        verbose_name = "job in plan"
        verbose_name_plural = "jobs in plan"
        permissions = [("act_on_job", "Can hold, release, cancel, kill or rerun jobs in plan")]

    def __str__(self) -> str:
        return f"{self.job_stream}.{self.name}"


class JobStatusTransition(models.Model):
    """A status change of a job seen by the monitor."""

    job_hwa_id = models.CharField(max_length=JOB_ID_MAX_LENGTH, db_index=True)
    job_name = models.CharField(max_length=200)
    from_status = models.CharField(max_length=30)
    to_status = models.CharField(max_length=30)
    at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.job_name}: {self.from_status} -> {self.to_status}"


class Alert(models.Model):
    """Something an operator should look at; open until acknowledged."""

    kind = models.CharField(max_length=30, choices=ALERT_KINDS)
    target = models.CharField(max_length=200)
    message = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        permissions = [("acknowledge_alert", "Can acknowledge TWS alerts")]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "target"],
                condition=Q(acknowledged_at__isnull=True),
                name="tws_one_open_alert_per_target",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.target}"


class SyncRun(models.Model):
    """One plan sync: when, how it went, how much changed."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=[("ok", "ok"), ("failed", "failed")])
    api_version = models.CharField(max_length=2, default="v2")
    jobs_seen = models.IntegerField(default=0)
    jobs_changed = models.IntegerField(default=0)
    detail = models.CharField(max_length=300, blank=True, default="")

    def __str__(self) -> str:
        return f"sync {self.started_at:%Y-%m-%d %H:%M:%S} {self.outcome}"
