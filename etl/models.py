"""ETL data: systems and their credentials, funds, paths, jobs with their steps and log lines, positions."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class System(models.Model):
    """A fund-administration system the pipeline pulls reports from."""

    code = models.SlugField(max_length=40, unique=True, help_text="e.g. amplis, maps, fidc")
    name = models.CharField(max_length=120)
    active = models.BooleanField(default=True)
    options = models.JSONField(default=dict, blank=True, help_text="validated per system (the 'opcao')")
    command = models.JSONField(
        default=list, blank=True, help_text="argv of the step; empty runs the bundled pipeline (python -m etl.pipeline)"
    )
    base_url = models.URLField(blank=True, help_text="reports server used when a credential has no URL")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Credential(models.Model):
    """Login of a system (optionally of one sub-account); the password is sealed by the key ring."""

    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="credentials")
    subaccount = models.CharField(max_length=40, blank=True, default="", help_text="e.g. AMPLIS reag/master")
    url = models.URLField(blank=True)
    username = models.CharField(max_length=150)
    password_sealed = models.TextField(blank=True, default="", help_text="AES-GCM sealed; never shown")
    password_changed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["system__code", "subaccount"]
        constraints = [models.UniqueConstraint(fields=["system", "subaccount"], name="etl_credential_unique")]

    def __str__(self) -> str:
        return f"{self.system.code}/{self.subaccount}" if self.subaccount else self.system.code

    def __repr__(self) -> str:  # never the sealed value either
        return f"<Credential {self} user={self.username!r} password_set={self.password_is_set}>"

    @property
    def password_is_set(self) -> bool:
        """Return whether a password is stored."""
        return bool(self.password_sealed)


class Fund(models.Model):
    """A fund of one system."""

    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="funds")
    code = models.CharField(max_length=60)
    name = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["system__code", "code"]
        constraints = [models.UniqueConstraint(fields=["system", "code"], name="etl_fund_unique")]

    def __str__(self) -> str:
        return f"{self.system.code}:{self.code}"


class PathConfig(models.Model):
    """Where downloaded reports go: one folder per kind (absolute, created on demand, writable)."""

    class Kind(models.TextChoices):
        CSV = "csv", "CSV"
        PDF = "pdf", "PDF"
        EXCEL = "excel", "Excel"

    kind = models.CharField(max_length=10, choices=Kind.choices, unique=True)
    path = models.CharField(max_length=500)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind"]
        verbose_name = "path"

    def __str__(self) -> str:
        return f"{self.kind}: {self.path}"


class Status(models.TextChoices):
    """Life cycle of jobs and steps."""

    PENDING = "pending", _("pending")
    RUNNING = "running", _("running")
    SUCCESS = "success", _("success")
    ERROR = "error", _("error")
    CANCELLED = "cancelled", _("cancelled")


ACTIVE_STATUSES = (Status.PENDING, Status.RUNNING)
FINAL_STATUSES = (Status.SUCCESS, Status.ERROR, Status.CANCELLED)


class Job(models.Model):
    """One execution: the whole pipeline over some systems, or a single system."""

    class Kind(models.TextChoices):
        PIPELINE = "pipeline", "pipeline"
        SINGLE = "single", "single"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    systems = models.JSONField(default=list, help_text="system codes in run order")
    options = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    trace_id = models.CharField(max_length=64, blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField()
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    error_summary = models.TextField(blank=True, default="")
    progress = models.PositiveSmallIntegerField(default=0)
    hostname = models.CharField(max_length=255, blank=True, default="")
    rerun_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reruns")

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="etl_job_status_created"),
            models.Index(fields=["created_at"], name="etl_job_created"),
        ]
        permissions = [
            ("execute_job", "Can execute ETL jobs"),
            ("cancel_job", "Can cancel ETL jobs"),
            ("rerun_job", "Can re-run ETL jobs"),
        ]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.kind} {','.join(self.systems)}: {self.status})"


class JobStep(models.Model):
    """The run of one system inside a job: its own subprocess and process group."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="steps")
    system = models.ForeignKey(System, on_delete=models.PROTECT, related_name="steps")
    order = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    exit_code = models.IntegerField(null=True, blank=True)
    error_summary = models.TextField(blank=True, default="")
    line_count = models.PositiveIntegerField(default=0)
    hostname = models.CharField(max_length=255, blank=True, default="")
    pid = models.IntegerField(null=True, blank=True)
    pgid = models.IntegerField(null=True, blank=True)

    class Meta:
        ordering = ["job_id", "order"]
        constraints = [
            models.UniqueConstraint(fields=["job", "order"], name="etl_step_order_unique"),
            # The database, not a process, guarantees one active run per system.
            models.UniqueConstraint(
                fields=["system"], condition=Q(status__in=["pending", "running"]), name="etl_step_one_active_per_system"
            ),
        ]
        indexes = [models.Index(fields=["system", "status", "finished_at"], name="etl_step_system_status")]

    def __str__(self) -> str:
        return f"job {self.job_id} step {self.order} ({self.system_id}: {self.status})"


class LogLine(models.Model):
    """One line of a job's output; ``seq`` is contiguous per job from 1."""

    LEVELS: ClassVar[tuple[str, ...]] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

    # No separate FK indexes: (job, seq) serves every read, and fewer indexes keep inserts fast.
    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="log_lines", db_index=False)
    step = models.ForeignKey(
        JobStep, null=True, blank=True, on_delete=models.CASCADE, related_name="log_lines", db_index=False
    )
    seq = models.PositiveIntegerField()
    timestamp = models.DateTimeField()
    level = models.CharField(max_length=10)
    system = models.CharField(max_length=40, blank=True, default="")
    message = models.TextField()

    class Meta:
        ordering = ["job_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["job", "seq"], name="etl_logline_seq_unique")]

    def __str__(self) -> str:
        return f"{self.job_id}#{self.seq} [{self.level}] [{self.system}] {self.message[:80]}"


class Position(models.Model):
    """A portfolio position loaded by the pipeline from a system's positions report."""

    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="positions")
    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="positions")
    asset = models.CharField(max_length=80)
    quantity = models.DecimalField(max_digits=24, decimal_places=6)
    price = models.DecimalField(max_digits=24, decimal_places=8)
    value = models.DecimalField(max_digits=28, decimal_places=2)
    date = models.DateField()
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="positions")
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date", "fund__code", "asset"]
        constraints = [
            models.UniqueConstraint(fields=["system", "fund", "asset", "date"], name="etl_position_unique"),
        ]
        indexes = [models.Index(fields=["date", "system"], name="etl_position_date")]

    def __str__(self) -> str:
        return f"{self.fund} {self.asset} {self.date}"
