"""What each known system accepts: its sub-accounts and its validated options (the ``opcao``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from etl.exceptions import InvalidInput


@dataclass(frozen=True)
class OptionSpec:
    """One option of a system: its type and bounds."""

    kind: type
    default: Any
    minimum: int | None = None
    maximum: int | None = None
    choices: tuple[str, ...] = ()

    def validate(self, field_name: str, value: Any) -> Any:
        """Return ``value`` if acceptable, else raise naming ``field_name``."""
        if self.kind is bool:
            if not isinstance(value, bool):
                raise InvalidInput(field_name, "must be true or false")
            return value
        if self.kind is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidInput(field_name, "must be an integer")
            if (self.minimum is not None and value < self.minimum) or (
                self.maximum is not None and value > self.maximum
            ):
                raise InvalidInput(field_name, f"must be between {self.minimum} and {self.maximum}")
            return value
        if self.kind is list:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise InvalidInput(field_name, "must be a list of names")
            unknown = sorted(set(value) - set(self.choices))
            if unknown:
                raise InvalidInput(field_name, f"unknown values {unknown}; allowed: {list(self.choices)}")
            return value
        if not isinstance(value, str) or (self.choices and value not in self.choices):
            raise InvalidInput(field_name, f"must be one of {list(self.choices)}")
        return value


COMMON_OPTIONS: dict[str, OptionSpec] = {
    "baixar_pdf": OptionSpec(bool, True),
    "baixar_excel": OptionSpec(bool, True),
    "carregar_posicoes": OptionSpec(bool, True),
    "dias_retroativos": OptionSpec(int, 0, minimum=0, maximum=31),
}


@dataclass(frozen=True)
class SystemProfile:
    """The sub-accounts and options of one system code."""

    subaccounts: tuple[str, ...] = ("",)
    options: dict[str, OptionSpec] = field(default_factory=dict)

    def all_options(self) -> dict[str, OptionSpec]:
        """Return the common options plus this system's own."""
        return {**COMMON_OPTIONS, **self.options}


PROFILES: dict[str, SystemProfile] = {
    "amplis": SystemProfile(
        subaccounts=("reag", "master"),
        options={"subcontas": OptionSpec(list, ["reag", "master"], choices=("reag", "master"))},
    ),
    "maps": SystemProfile(options={"formato": OptionSpec(str, "csv", choices=("csv", "xlsx"))}),
    "fidc": SystemProfile(options={"incluir_cotas": OptionSpec(bool, True)}),
}
GENERIC = SystemProfile()


def profile_for(code: str) -> SystemProfile:
    """Return the profile of system ``code`` (a generic one for systems without their own)."""
    return PROFILES.get(code, GENERIC)


def default_options(code: str) -> dict[str, Any]:
    """Return the default options of system ``code``."""
    return {name: spec.default for name, spec in profile_for(code).all_options().items()}


def validate_option(code: str, name: str, value: Any) -> Any:
    """Return ``value`` validated as option ``name`` of system ``code``."""
    spec = profile_for(code).all_options().get(name)
    if spec is None:
        allowed = sorted(profile_for(code).all_options())
        raise InvalidInput("opcao", f"unknown option {name!r} for {code}; allowed: {allowed}")
    return spec.validate("valor", value)


def validate_subaccount(code: str, subaccount: str) -> str:
    """Return ``subaccount`` if system ``code`` has it, else raise naming the field."""
    allowed = profile_for(code).subaccounts
    if subaccount not in allowed:
        shown = [a or "(none)" for a in allowed]
        raise InvalidInput("subconta", f"{code} has no sub-account {subaccount or '(none)'!r}; allowed: {shown}")
    return subaccount
