"""The stock middleware run on the event loop under ASGI (resync_site/inline_middleware.py) behave as before.

Most of the suite uses Django's sync test client, where the middleware run in sync mode; these tests go
through the ASGI handler (AsyncClient), the path Daphne takes in production.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import Group
from django.test import AsyncClient
from prometheus_client import REGISTRY

pytestmark = pytest.mark.django_db(transaction=True)

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


async def _login(client: AsyncClient, username: str, password: str) -> Any:
    page = await client.get("/admin/login/")
    token = CSRF_INPUT.search(page.content.decode())
    if token is None:
        raise AssertionError("the login page carries no CSRF token")
    return await client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "csrfmiddlewaretoken": token.group(1)},
    )


async def test_login_over_asgi_saves_the_session_and_the_next_page_knows_the_user(admin_user: Any) -> None:
    client = AsyncClient()
    answer = await _login(client, "boss", "pw-boss")
    assert answer.status_code == 302, answer.content[:300]
    assert answer["Location"] == "/admin/"
    assert "sessionid" in answer.cookies

    dashboard = await client.get("/admin/")
    assert dashboard.status_code == 200
    assert "boss" in dashboard.content.decode()


async def test_post_without_csrf_token_is_refused_over_asgi(admin_user: Any) -> None:
    client = AsyncClient(enforce_csrf_checks=True)
    await client.get("/admin/login/")
    answer = await client.post("/admin/login/", {"username": "boss", "password": "pw-boss"})
    assert answer.status_code == 403
    assert "sessionid" not in answer.cookies


async def test_admin_message_after_an_add_is_shown_on_the_next_page(admin_user: Any) -> None:
    client = AsyncClient()
    await _login(client, "boss", "pw-boss")
    form = await client.get("/admin/auth/group/add/")
    token = CSRF_INPUT.search(form.content.decode())
    if token is None:
        raise AssertionError("the add form carries no CSRF token")
    added = await client.post(
        "/admin/auth/group/add/", {"name": "Night shift", "csrfmiddlewaretoken": token.group(1)}, follow=True
    )
    assert added.status_code == 200
    page = added.content.decode()
    assert 'class="messagelist"' in page
    assert "Night shift" in page
    assert await sync_to_async(Group.objects.filter(name="Night shift").exists)()

    # A message is shown once: the next page has none.
    again = await client.get("/admin/auth/group/")
    assert 'class="messagelist"' not in again.content.decode()


async def test_security_language_and_metrics_hooks_still_apply_over_asgi() -> None:
    def by_view() -> float:
        value = REGISTRY.get_sample_value(
            "django_http_requests_total_by_view_transport_method_total",
            {"view": "health", "transport": "http", "method": "GET"},
        )
        return value or 0.0

    before = by_view()
    answer = await AsyncClient().get("/health", headers={"Accept-Language": "en"})
    assert answer.status_code == 200
    assert answer["X-Frame-Options"] == "DENY"
    assert answer["X-Content-Type-Options"] == "nosniff"
    assert answer["Content-Language"] == "en"
    assert by_view() == before + 1


async def test_a_missing_trailing_slash_is_still_redirected_over_asgi() -> None:
    answer = await AsyncClient().get("/admin")
    assert answer.status_code == 301
    assert answer["Location"] == "/admin/"


def test_deploy_check_still_names_a_missing_security_middleware(settings: Any) -> None:
    from resync_site.checks import check_security_middleware

    assert check_security_middleware() == []  # the subclasses count as present

    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.endswith("CsrfViewMiddleware")]
    problems = check_security_middleware()
    assert [p.id for p in problems] == ["resync.W004"]
    assert "django.middleware.csrf.CsrfViewMiddleware" in problems[0].msg
