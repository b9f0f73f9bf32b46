"""Forms of the operator console: starting a run."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from etl.exceptions import InvalidInput
from etl.models import System
from etl.services.jobs import validate_options


class RunForm(forms.Form):
    """Systems and dates of a new run, validated like ``POST /api/execute`` before the service runs."""

    sistemas = forms.MultipleChoiceField(
        label=gettext_lazy("Systems"),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Choose at least one system.")},
    )
    data_inicial = forms.DateField(
        label=gettext_lazy("Start date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": gettext_lazy("The start date is required.")},
    )
    data_final = forms.DateField(
        label=gettext_lazy("End date"),
        required=False,
        help_text=gettext_lazy("Empty: the start date only."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.systems = {s.code: s for s in System.objects.order_by("name")}
        active, inactive = _("active"), _("inactive")
        self.fields["sistemas"].choices = [  # type: ignore[attr-defined]
            (s.code, f"{s.name} ({active if s.active else inactive})") for s in self.systems.values()
        ]

    def clean_sistemas(self) -> list[str]:
        codes: list[str] = self.cleaned_data["sistemas"]
        idle = [self.systems[c].name for c in codes if not self.systems[c].active]
        if idle:
            raise forms.ValidationError(_("Inactive systems cannot run: %(names)s.") % {"names": ", ".join(idle)})
        return codes

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("data_inicial"), data.get("data_final")
        if start and end and end < start:
            self.add_error("data_final", _("The end date is before the start date."))
        elif start:
            try:
                data["options"] = validate_options({"data_inicial": start, "data_final": end})
            except InvalidInput as exc:  # the service's own rule, should it ever grow
                self.add_error(exc.field if exc.field in self.fields else None, str(exc))
        return data
