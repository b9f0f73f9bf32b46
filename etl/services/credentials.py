"""System credentials: validated per system, password sealed by the key ring, never returned."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.db import transaction
from django.utils import timezone

import audit
from core import keyring
from core.redaction import redact_text
from etl import catalog
from etl.exceptions import InvalidInput
from etl.models import SYSTEM_CODE, Credential, System
from etl.services.inputs import clean_text
from etl.services.systems import _system


def _validate_url(url: str) -> str:
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput("url", f"{url!r} is not an http(s) URL")
    return url


def credential_validate(*, system: System, subaccount: str, url: str, username: str, password: str | None) -> str:
    """Check a credential before anything is written; return its clean URL or raise naming the field.

    ``password=None`` means "keep the stored one", which only a stored credential has.
    """
    catalog.validate_subaccount(system.code, subaccount)
    clean_text("username", username, model=Credential, column="username")
    if not username.strip():
        raise InvalidInput("username", "is required")
    clean_url = _validate_url(clean_text("url", url.strip(), model=Credential, column="url"))
    if (
        password is None
        and not Credential.objects.filter(system=system, subaccount=subaccount).exclude(password_sealed="").exists()
    ):
        raise InvalidInput("password", "is required for a new credential")
    if password is not None and not password:
        raise InvalidInput("password", "must not be empty")
    return clean_url


@transaction.atomic
def credential_save(
    *,
    system_id: int | str,
    subaccount: str = "",
    url: str = "",
    username: str,
    password: str | None,
    acting_user: Any,
) -> Credential:
    """Store the credential of a system (sub-account); ``password=None`` keeps the stored one."""
    system = _system(system_id)
    clean_url = credential_validate(system=system, subaccount=subaccount, url=url, username=username, password=password)
    credential = Credential.objects.select_for_update().filter(system=system, subaccount=subaccount).first()
    created = credential is None
    if credential is None:
        credential = Credential(system=system, subaccount=subaccount)
    credential.url, credential.username = clean_url, username.strip()
    changed_password = password is not None
    if password is not None:
        credential.password_sealed = keyring.encrypt(password, associated_data=_aad(system.code, subaccount))
        credential.password_changed_at = timezone.now()
    credential.save()
    audit.record(
        "credential.create" if created else "credential.update",
        actor=acting_user,
        target=f"credential:{credential.pk}",
        data={
            "system": system.code,
            "subaccount": subaccount,
            "url": clean_url,
            "username": credential.username,
            "password_changed": changed_password,
        },
    )
    return credential


def _aad(system_code: str, subaccount: str) -> bytes:
    # Binding the sealed value to its row stops a password being swapped between systems.
    return f"etl.credential:{system_code}:{subaccount}".encode()


def credential_password(credential: Credential) -> str:
    """Return the plaintext password (for the connection boundary only: the runner's child)."""
    return keyring.decrypt(
        credential.password_sealed, associated_data=_aad(credential.system.code, credential.subaccount)
    )


def credentials_reencrypt() -> int:
    """Re-seal every stored password under the active key; return how many changed."""
    active = keyring.load_keyring().encryption.active
    count = 0
    with transaction.atomic():
        for credential in Credential.objects.select_for_update().select_related("system").exclude(password_sealed=""):
            if keyring.key_id_of(credential.password_sealed) == active:
                continue
            aad = _aad(credential.system.code, credential.subaccount)
            plaintext = keyring.decrypt(credential.password_sealed, associated_data=aad)
            credential.password_sealed = keyring.encrypt(plaintext, associated_data=aad)
            credential.save(update_fields=["password_sealed"])
            count += 1
        if count:
            audit.record(
                "credential.reencrypt", actor=None, target="credential:*", data={"count": count, "key": active}
            )
    return count


def _entry(field: str, raw: Any) -> tuple[str, str, str | None]:
    if not isinstance(raw, dict):
        raise InvalidInput(field, "must be an object with url, username and password")
    unknown = sorted(set(raw) - {"url", "username", "password"})
    if unknown:
        raise InvalidInput(f"{field}.{unknown[0]}", "unknown field")
    values = {}
    for name in ("url", "username", "password"):
        value = raw.get(name)
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f"{field}.{name}", "must be a string")
        values[name] = value
    return values["url"] or "", values["username"] or "", values["password"]


@transaction.atomic
def credentials_save_many(*, payload: dict[str, Any], acting_user: Any) -> int:
    """Save credentials shaped per system (``amplis: {reag: {...}}``, ``maps: {...}``); return how many."""
    if not isinstance(payload, dict) or not payload:
        raise InvalidInput("credentials", "must map system codes to credentials")
    saved = 0
    for code, value in payload.items():
        if not isinstance(code, str) or not SYSTEM_CODE.fullmatch(code):
            raise InvalidInput("credentials", f"{code!r} is not a system code")
        system = System.objects.filter(code=code).first()
        if system is None:
            raise InvalidInput(str(code), "unknown system")
        accounts = catalog.profile_for(system.code).subaccounts
        if accounts == ("",):
            entries = {"": value}
        elif isinstance(value, dict):
            entries = dict(value)
        else:
            raise InvalidInput(code, f"must map sub-accounts {list(accounts)} to credentials")
        for account, raw in entries.items():
            field = f"{code}.{account}" if account else code
            url, username, password = _entry(field, raw)
            try:
                credential_save(
                    system_id=system.pk,
                    subaccount=account,
                    url=url,
                    username=username,
                    password=password or None,
                    acting_user=acting_user,
                )
            except InvalidInput as exc:
                raise InvalidInput(f"{field}.{exc.field}", str(exc).split(": ", 1)[-1]) from None
            saved += 1
    return saved


@transaction.atomic
def credential_delete(*, credential_id: int, acting_user: Any) -> None:
    """Delete a stored credential."""
    credential = Credential.objects.select_related("system").filter(pk=credential_id).first()
    if credential is None:
        return
    audit.record(
        "credential.delete",
        actor=acting_user,
        target=f"credential:{credential_id}",
        data={"system": credential.system.code, "subaccount": credential.subaccount},
    )
    credential.delete()


@dataclass(frozen=True)
class ConnectionCheck:
    """The answer of a system to a login with a stored credential (never the secret)."""

    ok: bool
    url: str
    status: int | None  # HTTP status, None when the server could not be reached
    reason: str  # the system's own words, or why it could not be reached


def credential_test(*, credential_id: int, acting_user: Any, timeout: float = 10.0) -> ConnectionCheck:
    """Log in to the system's URL with stored credential ``credential_id`` and report the answer (audited)."""
    credential = Credential.objects.select_related("system").filter(pk=credential_id).first()
    if credential is None:
        raise InvalidInput("credential", f"credential {credential_id} not found")
    base = (credential.url or credential.system.base_url).rstrip("/")
    if not base or not credential.password_is_set:
        raise InvalidInput("credential", "has no URL or no password to test")
    url = f"{base}/{credential.system.code}/login"
    params = {"conta": credential.subaccount} if credential.subaccount else {}
    try:
        answer = httpx.get(
            url, params=params, auth=(credential.username, credential_password(credential)), timeout=timeout
        )
    except httpx.HTTPError as exc:
        check = ConnectionCheck(False, url, None, redact_text(str(exc)) or "no answer")
    else:
        reason = "" if answer.is_success else redact_text(answer.text.strip()[:300])
        check = ConnectionCheck(answer.is_success, url, answer.status_code, reason or answer.reason_phrase)
    audit.record(
        "credential.test",
        actor=acting_user,
        target=f"credential:{credential.pk}",
        data={
            "system": credential.system.code,
            "subaccount": credential.subaccount,
            "ok": check.ok,
            "status": check.status,
        },
    )
    return check
