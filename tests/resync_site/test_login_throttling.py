"""Sign-in throttling: repeated wrong passwords lock the username out from that address, visibly and briefly."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from audit.models import AuditEntry

pytestmark = pytest.mark.django_db(transaction=True)


def _sign_in(client: Client, username: str, password: str, lang: str = "en") -> Any:
    client.cookies["django_language"] = lang
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


def _failed_sign_ins() -> int:
    from audit.writer import get_writer

    get_writer().flush()
    return AuditEntry.objects.filter(action="auth.login_failed").count()


def test_twenty_wrong_passwords_lock_the_user_out_with_a_clear_message(admin_user: Any, settings: Any) -> None:
    client = Client()
    answers = [_sign_in(client, "boss", f"wrong-{i}") for i in range(20)]

    limit = settings.AXES_FAILURE_LIMIT
    assert [a.status_code for a in answers[: limit - 1]] == [200] * (limit - 1)  # the form again, with its error
    assert "Please enter the correct username and password" in answers[0].content.decode()
    locked = answers[-1]
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert int(locked["Retry-After"]) == int(settings.AXES_COOLOFF_TIME.total_seconds())

    # The right password does not get through while locked out.
    right = _sign_in(client, "boss", "pw-boss")
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session

    # The trail grew by the attempts before the lockout, not by every attempt.
    assert 1 <= _failed_sign_ins() <= limit


def test_the_lockout_page_speaks_portuguese(admin_user: Any, settings: Any) -> None:
    client = Client()
    for i in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "boss", f"wrong-{i}", lang="pt-br")
    page = _sign_in(client, "boss", "wrong-again", lang="pt-br").content.decode()
    assert "Muitas tentativas de entrada" in page


def test_another_address_or_a_success_before_the_limit_is_not_locked(admin_user: Any, settings: Any) -> None:
    client = Client()
    for i in range(settings.AXES_FAILURE_LIMIT - 1):
        _sign_in(client, "boss", f"wrong-{i}")
    assert _sign_in(client, "boss", "pw-boss").status_code == 302  # a success resets the count

    elsewhere = Client(REMOTE_ADDR="10.9.8.7")
    for i in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "boss", f"wrong-again-{i}")
    assert _sign_in(elsewhere, "boss", "pw-boss").status_code == 302


def test_guessing_bearer_tokens_is_throttled_per_address(operator: Any, api_token: str, settings: Any) -> None:
    settings.RESYNC_BAD_TOKEN_LIMIT = 3
    guesser = Client()
    answers = [guesser.get("/api/jobs", HTTP_AUTHORIZATION=f"Bearer rsy_guess{i}") for i in range(5)]
    assert [a.status_code for a in answers] == [401, 401, 401, 429, 429]
    assert answers[-1].json()["code"] == "rate_limited"
    assert int(answers[-1]["Retry-After"]) >= 1
    # The real token from another address still works.
    assert Client(REMOTE_ADDR="10.1.2.3").get("/api/jobs", HTTP_AUTHORIZATION=f"Bearer {api_token}").status_code == 200


def test_a_password_typed_as_the_username_is_stored_nowhere(admin_user: Any, settings: Any) -> None:
    from axes.models import AccessAttempt, AccessFailureLog

    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, "Tr0ub4dor&3-typed-here", "whatever")
    assert _sign_in(client, "Tr0ub4dor&3-typed-here", "whatever").status_code == 429  # still locked out by digest
    stored = [a.username for a in AccessAttempt.objects.all()] + [f.username for f in AccessFailureLog.objects.all()]
    assert stored
    assert all("Tr0ub4dor" not in name for name in stored)

    _sign_in(client, "boss", "wrong")
    assert AccessAttempt.objects.filter(username="boss").exists()  # a real user stays readable (axes_reset_username)
