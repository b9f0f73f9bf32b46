"""Demo data: the three systems, funds, report folders under VAR_DIR and credentials for the demo server."""

from __future__ import annotations

from django.conf import settings

from etl import conf, services
from etl.demo.reports import FUNDS, SYSTEMS, demo_password, demo_username
from etl.models import Credential, System


def demo_base_url() -> str:
    """Return the URL the embedded demo reports server listens at."""
    return f"http://127.0.0.1:{conf.get_setting('ETL_DEMO_SERVER_PORT')}"


def repoint(old_url: str, new_url: str) -> int:
    """Point the systems and credentials that use ``old_url`` at ``new_url``; return how many changed."""
    changed = 0
    for system in System.objects.filter(base_url=old_url):
        services.system_save(
            code=system.code, name=system.name, active=system.active, base_url=new_url, acting_user=None
        )
        changed += 1
    for credential in Credential.objects.select_related("system").filter(url=old_url):
        services.credential_save(
            system_id=credential.system_id,
            subaccount=credential.subaccount,
            url=new_url,
            username=credential.username,
            password=None,
            acting_user=None,
        )
        changed += 1
    return changed


def load() -> str:
    """Create (idempotently) the demo systems, funds, folders and credentials; return a summary."""
    from etl import catalog

    url = demo_base_url()
    created = 0
    for code, name in SYSTEMS.items():
        system = services.system_save(code=code, name=name, active=True, base_url=url, acting_user=None)
        for fund in FUNDS[code]:
            services.fund_save(system_id=system.pk, code=fund, name=f"Fundo {fund}", acting_user=None)
        for account in catalog.profile_for(code).subaccounts:
            if Credential.objects.filter(system=system, subaccount=account).exists():
                continue
            services.credential_save(
                system_id=system.pk,
                subaccount=account,
                url=url,
                username=demo_username(code, account),
                password=demo_password(code, account),
                acting_user=None,
            )
            created += 1
    for kind in ("csv", "pdf", "excel"):
        services.path_save(kind=kind, path=str(settings.VAR_DIR / "etl" / kind), acting_user=None)
    return f"{len(SYSTEMS)} systems, {sum(len(f) for f in FUNDS.values())} funds, {created} new credentials at {url}"
