"""Feature flags and the history of every change made to them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

NAME_PATTERN = r"^[A-Z][A-Z0-9_]{1,99}$"


def validate_plan(value: str) -> None:
    """Reject a rollout plan that is not strictly increasing percentages ending at 100."""
    try:
        stages = [int(part) for part in value.split(",")]
    except ValueError:
        raise ValidationError("a plan is comma-separated whole percentages, e.g. 10,25,50,100") from None
    if any(not 0 < s <= 100 for s in stages) or stages != sorted(set(stages)) or stages[-1] != 100:
        raise ValidationError("a plan's stages increase strictly, lie in 1-100 and end at 100, e.g. 10,25,50,100")


class FeatureFlag(models.Model):
    """A switch for a migrating path: off, on, or on for a percentage of keys."""

    class State(models.TextChoices):
        OFF = "off", _("off")
        ON = "on", _("on")
        PERCENTAGE = "percentage", _("percentage")

    name = models.CharField(
        max_length=100, unique=True, validators=[RegexValidator(NAME_PATTERN)], verbose_name=_("name")
    )
    description = models.TextField(blank=True, verbose_name=_("description"))
    state = models.CharField(max_length=10, choices=State.choices, default=State.OFF, verbose_name=_("state"))
    percent = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(100)], verbose_name=_("percent")
    )
    group_id = models.CharField(
        max_length=100,
        blank=True,
        help_text=_("Bucketing group; blank means the flag name."),
        verbose_name=_("group"),
    )
    rollout_plan = models.CharField(
        max_length=100, default="10,25,50,100", validators=[validate_plan], verbose_name=_("rollout plan")
    )
    guard = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("What the registered guard checks (informative; set by the owning app)."),
        verbose_name=_("guard"),
    )
    stage_started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("stage started at"))
    updated_by = models.CharField(max_length=150, blank=True, verbose_name=_("updated by"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    reason = models.TextField(blank=True, verbose_name=_("reason"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("feature flag")
        verbose_name_plural = _("feature flags")
        constraints = [
            models.CheckConstraint(condition=models.Q(percent__lte=100), name="cachemig_flag_percent_lte_100"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def effective_group_id(self) -> str:
        """Return the bucketing group (the flag name unless set)."""
        return self.group_id or self.name

    @property
    def exposure(self) -> int:
        """Return the share of keys (0-100) the flag is on for."""
        if self.state == self.State.ON:
            return 100
        if self.state == self.State.OFF:
            return 0
        return self.percent

    @property
    def stages(self) -> list[int]:
        """Return the rollout plan as percentages."""
        return [int(part) for part in self.rollout_plan.split(",") if part.strip()]


class RolloutEvent(models.Model):
    """One change of a flag: from, to, who, why, and the gate figures seen."""

    class Kind(models.TextChoices):
        CREATE = "create", _("created")
        ROLLOUT = "rollout", _("rolled out")
        ROLLBACK = "rollback", _("rolled back")
        AUTO_ROLLBACK = "auto_rollback", _("rolled back automatically")
        SET = "set", _("set")
        UPDATE = "update", _("edited")
        DELETE = "delete", _("deleted")

    flag = models.ForeignKey(FeatureFlag, null=True, on_delete=models.SET_NULL, related_name="events")
    flag_name = models.CharField(max_length=100, db_index=True, verbose_name=_("flag"))
    kind = models.CharField(max_length=20, choices=Kind.choices, verbose_name=_("kind"))
    from_state = models.CharField(max_length=10, blank=True, verbose_name=_("from state"))
    from_percent = models.PositiveSmallIntegerField(default=0, verbose_name=_("from percent"))
    to_state = models.CharField(max_length=10, blank=True, verbose_name=_("to state"))
    to_percent = models.PositiveSmallIntegerField(default=0, verbose_name=_("to percent"))
    actor = models.CharField(max_length=150, verbose_name=_("actor"))
    reason = models.TextField(blank=True, verbose_name=_("reason"))
    figures = models.JSONField(default=dict, blank=True, verbose_name=_("figures"))
    forced = models.BooleanField(default=False, verbose_name=_("forced"))
    correlation_id = models.CharField(max_length=64, blank=True, verbose_name=_("correlation id"))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("rollout event")
        verbose_name_plural = _("rollout events")

    def __str__(self) -> str:
        return f"{self.flag_name}: {self.kind} {self.from_percent}% -> {self.to_percent}%"
