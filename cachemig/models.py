"""Feature flags and the history of every change made to them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models

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
        OFF = "off", "off"
        ON = "on", "on"
        PERCENTAGE = "percentage", "percentage"

    name = models.CharField(max_length=100, unique=True, validators=[RegexValidator(NAME_PATTERN)])
    description = models.TextField(blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OFF)
    percent = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    group_id = models.CharField(max_length=100, blank=True, help_text="Bucketing group; blank means the flag name.")
    rollout_plan = models.CharField(max_length=100, default="10,25,50,100", validators=[validate_plan])
    guard = models.CharField(
        max_length=200, blank=True, help_text="What the registered guard checks (informative; set by the owning app)."
    )
    stage_started_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.CharField(max_length=150, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
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
        CREATE = "create", "created"
        ROLLOUT = "rollout", "rolled out"
        ROLLBACK = "rollback", "rolled back"
        AUTO_ROLLBACK = "auto_rollback", "rolled back automatically"
        SET = "set", "set"
        UPDATE = "update", "edited"
        DELETE = "delete", "deleted"

    flag = models.ForeignKey(FeatureFlag, null=True, on_delete=models.SET_NULL, related_name="events")
    flag_name = models.CharField(max_length=100, db_index=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_state = models.CharField(max_length=10, blank=True)
    from_percent = models.PositiveSmallIntegerField(default=0)
    to_state = models.CharField(max_length=10, blank=True)
    to_percent = models.PositiveSmallIntegerField(default=0)
    actor = models.CharField(max_length=150)
    reason = models.TextField(blank=True)
    figures = models.JSONField(default=dict, blank=True)
    forced = models.BooleanField(default=False)
    correlation_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.flag_name}: {self.kind} {self.from_percent}% -> {self.to_percent}%"
