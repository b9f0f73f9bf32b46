"""A step's process gets an allow-list environment: none of the platform's secrets, and any echo of one is masked."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from etl.models import Job, LogLine
from etl.runner.job import run_job

pytestmark = pytest.mark.django_db(transaction=True)

PLATFORM_SECRETS = {
    "SECRET_KEY": "django-secret-key-4f1d9a",
    "RESYNC_OBSERVABILITY_TOKEN": "observability-token-7c2e",
    "DATABASE_URL": "postgres://resync:db-pass-9a8b@db.internal:5432/resync",
    "REDIS_URL": "redis://:redis-pass-3d4e@redis.internal:6379/0",
    "TWS_PASSWORD": "tws-pass-5e6f",
}


@pytest.fixture
def platform_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Put the platform's secrets in this (the worker's) environment, as production does."""
    for name, value in PLATFORM_SECRETS.items():
        monkeypatch.setenv(name, value)
    return PLATFORM_SECRETS


def _log(job: Job) -> str:
    return "\n".join(LogLine.objects.filter(job=job).order_by("seq").values_list("message", flat=True))


def _system_running(make_system: Any, settings: Any, argv: list[str]) -> None:
    make_system("maps")
    settings.ETL_COMMANDS = {"dump": argv}
    from etl import services

    services.system_save(code="maps", name="MAPS", base_url="http://127.0.0.1:9", command_name="dump", acting_user=None)


def test_a_step_that_runs_env_shows_none_of_the_platform_secrets(
    platform_env: dict[str, str], make_system: Any, start_job: Any, no_enqueue: None, settings: Any
) -> None:
    # `sh -c env step ...`: the runner's arguments become the script's $0.., `env` prints the whole environment.
    _system_running(make_system, settings, ["/bin/sh", "-c", "env", "step"])
    job = start_job("maps")

    assert run_job(job.pk) == "success"

    log = _log(job)
    assert "PATH=" in log  # the environment was printed...
    assert "ETL_CREDENTIALS=" in log  # ...with what the step needs, its credentials as before...
    assert "s3cret-maps--pw" not in log  # ...whose password is masked in the log
    for name, value in platform_env.items():  # ...and none of the platform's secrets, by name or by value
        assert f"{name}=" not in log
        assert value not in log
    assert "db-pass-9a8b" not in log


def test_a_platform_secret_a_step_prints_is_masked_in_the_log(
    platform_env: dict[str, str], make_system: Any, start_job: Any, no_enqueue: None, settings: Any
) -> None:
    from resync_site.lifecycle import register_platform_secrets

    register_platform_secrets()  # what initialize_core_systems does at start-up of every web and worker process
    leaked = " ".join(platform_env.values())
    _system_running(make_system, settings, [sys.executable, "-c", f"print({leaked!r}); print('db-pass-9a8b')"])
    job = start_job("maps")

    assert run_job(job.pk) == "success"

    log = _log(job)
    for value in platform_env.values():
        assert value not in log
    assert "db-pass-9a8b" not in log  # the password inside DATABASE_URL on its own too
    assert "***" in log


def test_a_system_runs_only_a_configured_command(admin_user: Any, settings: Any, db: None) -> None:
    from etl import services
    from etl.exceptions import InvalidInput

    settings.ETL_COMMANDS = {"fetch": ["/bin/true"]}
    with pytest.raises(InvalidInput, match=r"^command_name: "):
        services.system_save(code="maps", name="MAPS", command_name="/bin/rm", acting_user=admin_user)
    assert services.system_save(code="maps", name="MAPS", command_name="fetch", acting_user=admin_user).command_name


def test_the_admin_offers_the_configured_commands_as_a_choice(admin_client_: Any, settings: Any, db: None) -> None:
    from etl import services

    settings.ETL_COMMANDS = {"fetch-maps": ["/opt/maps/fetch"]}
    system = services.system_save(code="maps", name="MAPS", acting_user=None)
    page = admin_client_.get(f"/admin/etl/system/{system.pk}/change/").content.decode()
    assert '<select name="command_name"' in page
    assert '<option value="fetch-maps">fetch-maps</option>' in page

    answer = admin_client_.post(
        f"/admin/etl/system/{system.pk}/change/",
        {"code": "maps", "name": "MAPS", "active": "on", "base_url": "", "command_name": "/bin/sh"},
    )
    assert answer.status_code == 200  # the form again, with the error: a typed program is not a choice
    system.refresh_from_db()
    assert system.command_name == ""
