"""The TWS connection and the synced plan: jobs, job streams, workstations, transitions, alerts."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

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

    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    base_url = models.URLField(max_length=300, verbose_name=_("base url"))
    username = models.CharField(max_length=150, verbose_name=_("username"))
    password_sealed = models.TextField(blank=True, default="", editable=False, verbose_name=_("password sealed"))
    verify_tls = models.BooleanField(default=True, verbose_name=_("verify tls"))
    timeout_seconds = models.FloatField(default=10.0, verbose_name=_("timeout seconds"))
    is_active = models.BooleanField(
        default=True, help_text=_("The active connection is used below env and .env."), verbose_name=_("is active")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("TWS connection")
        verbose_name_plural = _("TWS connections")

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

    name = models.CharField(max_length=200, unique=True, verbose_name=_("name"))
    hwa_id = models.CharField(max_length=64, blank=True, default="", verbose_name=_("hwa id"))
    type = models.CharField(max_length=40, default="UNKNOWN", verbose_name=_("type"))
    link_state = models.CharField(max_length=10, default="unknown", verbose_name=_("link state"))
    limit = models.IntegerField(null=True, blank=True, verbose_name=_("limit"))
    fence = models.IntegerField(null=True, blank=True, verbose_name=_("fence"))
    synced_at = models.DateTimeField(verbose_name=_("synced at"))

    class Meta:
        verbose_name = _("workstation")
        verbose_name_plural = _("workstations")

    def __str__(self) -> str:
        return self.name


class JobStream(models.Model):
    """A job stream instance in the current plan."""

    hwa_id = models.CharField(max_length=64, unique=True, verbose_name=_("hwa id"))
    name = models.CharField(max_length=200, db_index=True, verbose_name=_("name"))
    workstation = models.CharField(max_length=200, blank=True, default="", verbose_name=_("workstation"))
    synced_at = models.DateTimeField(verbose_name=_("synced at"))

    class Meta:
        verbose_name = _("job stream")
        verbose_name_plural = _("job streams")

    def __str__(self) -> str:
        return self.name


class JobInPlan(models.Model):
    """A job in the current plan, keyed by the serving API's own id for it (tws/hwa/ids.py)."""

    hwa_id = models.CharField(max_length=JOB_ID_MAX_LENGTH, unique=True, verbose_name=_("hwa id"))
    name = models.CharField(max_length=200, db_index=True, verbose_name=_("name"))
    job_stream = models.CharField(max_length=200, db_index=True, verbose_name=_("job stream"))
    job_stream_hwa_id = models.CharField(max_length=64, blank=True, default="", verbose_name=_("job stream hwa id"))
    workstation = models.CharField(max_length=200, db_index=True, verbose_name=_("workstation"))
    status = models.CharField(max_length=30, db_index=True, verbose_name=_("status"))
    internal_status = models.CharField(max_length=20, blank=True, default="", verbose_name=_("internal status"))
    sched_time = models.DateTimeField(null=True, blank=True, verbose_name=_("sched time"))
    start_time = models.DateTimeField(null=True, blank=True, verbose_name=_("start time"))
    end_time = models.DateTimeField(null=True, blank=True, verbose_name=_("end time"))
    return_code = models.IntegerField(null=True, blank=True, verbose_name=_("return code"))
    run_number = models.IntegerField(default=1, verbose_name=_("run number"))
    critical_start = models.DateTimeField(  # set on critical jobs only
        null=True, blank=True, db_index=True, verbose_name=_("critical start")
    )
    signature = models.CharField(
        max_length=24, default="", editable=False, verbose_name=_("signature")
    )  # digest of the fields above
    synced_at = models.DateTimeField(verbose_name=_("synced at"))

    class Meta:
        verbose_name = _("job in plan")
        verbose_name_plural = _("jobs in plan")
        permissions = [("act_on_job", "Can hold, release, cancel, kill or rerun jobs in plan")]

    def __str__(self) -> str:
        return f"{self.job_stream}.{self.name}"


class JobStatusTransition(models.Model):
    """A status change of a job seen by the monitor."""

    job_hwa_id = models.CharField(max_length=JOB_ID_MAX_LENGTH, db_index=True, verbose_name=_("job hwa id"))
    job_name = models.CharField(max_length=200, verbose_name=_("job name"))
    from_status = models.CharField(max_length=30, verbose_name=_("from status"))
    to_status = models.CharField(max_length=30, verbose_name=_("to status"))
    at = models.DateTimeField(db_index=True, verbose_name=_("at"))

    class Meta:
        verbose_name = _("job status transition")
        verbose_name_plural = _("job status transitions")

    def __str__(self) -> str:
        return f"{self.job_name}: {self.from_status} -> {self.to_status}"


class Alert(models.Model):
    """Something an operator should look at; open until acknowledged."""

    kind = models.CharField(max_length=30, choices=ALERT_KINDS, verbose_name=_("kind"))
    target = models.CharField(max_length=200, verbose_name=_("target"))
    message = models.CharField(max_length=500, verbose_name=_("message"))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("created at"))
    acknowledged_at = models.DateTimeField(null=True, blank=True, verbose_name=_("acknowledged at"))
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("acknowledged by")
    )

    class Meta:
        permissions = [("acknowledge_alert", "Can acknowledge TWS alerts")]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "target"],
                condition=Q(acknowledged_at__isnull=True),
                name="tws_one_open_alert_per_target",
            )
        ]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")

    def __str__(self) -> str:
        return f"{self.kind} {self.target}"


class SyncRun(models.Model):
    """One plan sync: when, how it went, how much changed."""

    started_at = models.DateTimeField(verbose_name=_("started at"))
    finished_at = models.DateTimeField(verbose_name=_("finished at"))
    outcome = models.CharField(max_length=10, choices=[("ok", "ok"), ("failed", "failed")], verbose_name=_("outcome"))
    api_version = models.CharField(max_length=2, default="v2", verbose_name=_("api version"))
    jobs_seen = models.IntegerField(default=0, verbose_name=_("jobs seen"))
    jobs_changed = models.IntegerField(default=0, verbose_name=_("jobs changed"))
    detail = models.CharField(max_length=300, blank=True, default="", verbose_name=_("detail"))

    class Meta:
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")

    def __str__(self) -> str:
        return f"sync {self.started_at:%Y-%m-%d %H:%M:%S} {self.outcome}"
