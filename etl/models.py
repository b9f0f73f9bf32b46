"""ETL data: systems and their credentials, funds, paths, jobs with their steps and log lines, positions."""

from __future__ import annotations

import re
from typing import ClassVar

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# A system code is a slug that cannot start with "-": it reaches a command line as a value.
SYSTEM_CODE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


class System(models.Model):
    """A fund-administration system the pipeline pulls reports from."""

    code = models.SlugField(
        max_length=40,
        unique=True,
        validators=[RegexValidator(rf"\A{SYSTEM_CODE.pattern}\Z", "a lower-case slug that does not start with -")],
        help_text=_("e.g. amplis, maps, fidc"),
        verbose_name=_("code"),
    )
    name = models.CharField(max_length=120, verbose_name=_("name"))
    active = models.BooleanField(default=True, verbose_name=_("active"))
    options = models.JSONField(
        default=dict, blank=True, help_text=_("validated per system (the 'opcao')"), verbose_name=_("options")
    )
    command_name = models.CharField(
        max_length=40,
        blank=True,
        default="",
        help_text=_("one of the commands configured in ETL_COMMANDS; empty runs the bundled pipeline"),
        verbose_name=_("command"),
    )
    base_url = models.URLField(
        blank=True, help_text=_("reports server used when a credential has no URL"), verbose_name=_("base url")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["code"]
        verbose_name = _("system")
        verbose_name_plural = _("systems")

    def __str__(self) -> str:
        return self.code


class Credential(models.Model):
    """Login of a system (optionally of one sub-account); the password is sealed by the key ring."""

    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="credentials", verbose_name=_("system"))
    subaccount = models.CharField(
        max_length=40, blank=True, default="", help_text=_("e.g. AMPLIS reag/master"), verbose_name=_("subaccount")
    )
    url = models.URLField(blank=True, verbose_name=_("url"))
    username = models.CharField(max_length=150, verbose_name=_("username"))
    password_sealed = models.TextField(
        blank=True, default="", help_text=_("AES-GCM sealed; never shown"), verbose_name=_("password sealed")
    )
    password_changed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("password changed at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["system__code", "subaccount"]
        constraints = [models.UniqueConstraint(fields=["system", "subaccount"], name="etl_credential_unique")]
        verbose_name = _("credential")
        verbose_name_plural = _("credentials")

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

    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="funds", verbose_name=_("system"))
    code = models.CharField(max_length=60, verbose_name=_("code"))
    name = models.CharField(max_length=200, blank=True, verbose_name=_("name"))
    active = models.BooleanField(default=True, verbose_name=_("active"))

    class Meta:
        ordering = ["system__code", "code"]
        constraints = [models.UniqueConstraint(fields=["system", "code"], name="etl_fund_unique")]
        verbose_name = _("fund")
        verbose_name_plural = _("funds")

    def __str__(self) -> str:
        return f"{self.system.code}:{self.code}"


class PathConfig(models.Model):
    """Where downloaded reports go: one folder per kind (absolute, created on demand, writable)."""

    class Kind(models.TextChoices):
        CSV = "csv", "CSV"
        PDF = "pdf", "PDF"
        EXCEL = "excel", "Excel"

    kind = models.CharField(max_length=10, choices=Kind.choices, unique=True, verbose_name=_("kind"))
    path = models.CharField(max_length=500, verbose_name=_("path"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        ordering = ["kind"]
        verbose_name = _("path")
        verbose_name_plural = _("paths")

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
        PIPELINE = "pipeline", _("pipeline")
        SINGLE = "single", _("single")

    kind = models.CharField(max_length=10, choices=Kind.choices, verbose_name=_("kind"))
    systems = models.JSONField(default=list, help_text=_("system codes in run order"), verbose_name=_("systems"))
    options = models.JSONField(default=dict, blank=True, verbose_name=_("options"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, verbose_name=_("status"))
    trace_id = models.CharField(max_length=64, blank=True, default="", verbose_name=_("trace id"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("created by")
    )
    created_at = models.DateTimeField(verbose_name=_("created at"))
    enqueued_at = models.DateTimeField(null=True, blank=True, verbose_name=_("enqueued at"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    heartbeat_at = models.DateTimeField(null=True, blank=True, verbose_name=_("heartbeat at"))
    cancel_requested_at = models.DateTimeField(null=True, blank=True, verbose_name=_("cancel requested at"))
    duration_seconds = models.FloatField(null=True, blank=True, verbose_name=_("duration seconds"))
    exit_code = models.IntegerField(null=True, blank=True, verbose_name=_("exit code"))
    error_summary = models.TextField(blank=True, default="", verbose_name=_("error summary"))
    progress = models.PositiveSmallIntegerField(default=0, verbose_name=_("progress"))
    hostname = models.CharField(max_length=255, blank=True, default="", verbose_name=_("hostname"))
    rerun_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reruns", verbose_name=_("rerun of")
    )

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
        verbose_name = _("job")
        verbose_name_plural = _("jobs")

    def __str__(self) -> str:
        return _("job %(id)s (%(systems)s: %(status)s)") % {
            "id": self.pk,
            "systems": ", ".join(self.systems),
            "status": self.get_status_display(),
        }


class JobStep(models.Model):
    """The run of one system inside a job: its own subprocess and process group."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="steps", verbose_name=_("job"))
    system = models.ForeignKey(System, on_delete=models.PROTECT, related_name="steps", verbose_name=_("system"))
    order = models.PositiveSmallIntegerField(verbose_name=_("order"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, verbose_name=_("status"))
    progress = models.PositiveSmallIntegerField(default=0, verbose_name=_("progress"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    duration_seconds = models.FloatField(null=True, blank=True, verbose_name=_("duration seconds"))
    exit_code = models.IntegerField(null=True, blank=True, verbose_name=_("exit code"))
    error_summary = models.TextField(blank=True, default="", verbose_name=_("error summary"))
    line_count = models.PositiveIntegerField(default=0, verbose_name=_("line count"))
    hostname = models.CharField(max_length=255, blank=True, default="", verbose_name=_("hostname"))
    pid = models.IntegerField(null=True, blank=True, verbose_name=_("pid"))
    pgid = models.IntegerField(null=True, blank=True, verbose_name=_("pgid"))
    # Bytes of each output spool ("out", "err") whose lines are stored: a crash recovery ingests the rest.
    spool_offsets = models.JSONField(default=dict, blank=True, verbose_name=_("spool offsets"))

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
        verbose_name = _("job step")
        verbose_name_plural = _("job steps")

    def __str__(self) -> str:
        return _("step %(order)s of job %(job)s (%(status)s)") % {
            "order": self.order,
            "job": self.job_id,
            "status": self.get_status_display(),
        }


class LogLine(models.Model):
    """One line of a job's output; ``seq`` is contiguous per job from 1."""

    LEVELS: ClassVar[tuple[str, ...]] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

    # No separate FK indexes: (job, seq) serves every read, and fewer indexes keep inserts fast.
    job = models.ForeignKey(
        Job, on_delete=models.CASCADE, related_name="log_lines", db_index=False, verbose_name=_("job")
    )
    step = models.ForeignKey(
        JobStep,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="log_lines",
        db_index=False,
        verbose_name=_("step"),
    )
    seq = models.PositiveIntegerField(verbose_name=_("seq"))
    timestamp = models.DateTimeField(verbose_name=_("timestamp"))
    level = models.CharField(max_length=10, verbose_name=_("level"))
    system = models.CharField(max_length=40, blank=True, default="", verbose_name=_("system"))
    message = models.TextField(verbose_name=_("message"))

    class Meta:
        ordering = ["job_id", "seq"]
        constraints = [models.UniqueConstraint(fields=["job", "seq"], name="etl_logline_seq_unique")]
        verbose_name = _("log line")
        verbose_name_plural = _("log lines")

    def __str__(self) -> str:
        return f"{self.job_id}#{self.seq} [{self.level}] [{self.system}] {self.message[:80]}"


class Position(models.Model):
    """A portfolio position loaded by the pipeline from a system's positions report."""

    system = models.ForeignKey(System, on_delete=models.CASCADE, related_name="positions", verbose_name=_("system"))
    fund = models.ForeignKey(Fund, on_delete=models.CASCADE, related_name="positions", verbose_name=_("fund"))
    asset = models.CharField(max_length=80, verbose_name=_("asset"))
    quantity = models.DecimalField(max_digits=24, decimal_places=6, verbose_name=_("quantity"))
    price = models.DecimalField(max_digits=24, decimal_places=8, verbose_name=_("price"))
    value = models.DecimalField(max_digits=28, decimal_places=2, verbose_name=_("value"))
    date = models.DateField(verbose_name=_("date"))
    job = models.ForeignKey(
        Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="positions", verbose_name=_("job")
    )
    loaded_at = models.DateTimeField(auto_now=True, verbose_name=_("loaded at"))

    class Meta:
        ordering = ["-date", "fund__code", "asset"]
        constraints = [
            models.UniqueConstraint(fields=["system", "fund", "asset", "date"], name="etl_position_unique"),
        ]
        indexes = [models.Index(fields=["date", "system"], name="etl_position_date")]
        verbose_name = _("position")
        verbose_name_plural = _("positions")

    def __str__(self) -> str:
        return f"{self.fund} {self.asset} {self.date}"
