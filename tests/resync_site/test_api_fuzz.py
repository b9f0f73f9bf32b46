"""Schemathesis over the OpenAPI document: no server error, and every answer's status and body as documented.

The API is called in-process (WSGI) with a staff token, against a real TWS simulator over HTTP, with a
bounded number of generated requests per operation. The checks are the three the edge contract promises;
how strictly each input schema describes what is refused is the input contract's own tests' business.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance, status_code_conformance

from tws.simulator.threaded import ThreadedSimulator

pytestmark = pytest.mark.django_db

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())
USER, PASSWORD = "fuzz-tws", "fuzz-tws-Pa55word!"


@pytest.fixture(scope="module")
def simulator() -> Iterator[ThreadedSimulator]:
    sim = ThreadedSimulator(jobs=50, seed=5, username=USER, password=PASSWORD)
    yield sim
    sim.close()


@pytest.fixture(autouse=True)
def _stack(monkeypatch: pytest.MonkeyPatch, settings: Any, simulator: ThreadedSimulator) -> Iterator[None]:
    from tws.hwa.client import forget_tws_clients

    monkeypatch.setenv("TWS_BASE_URL", simulator.url)
    monkeypatch.setenv("TWS_USERNAME", USER)
    monkeypatch.setenv("TWS_PASSWORD", PASSWORD)
    monkeypatch.setenv("TWS_RETRY_ATTEMPTS", "1")
    settings.TWS_FLAG_CACHE_SECONDS = 0
    # Schemathesis also probes with made-up tokens; their budget has its own test (test_login_throttling).
    settings.RESYNC_BAD_TOKEN_LIMIT = 100_000
    forget_tws_clients()
    # As Django's test client does: the handler must not close the test database's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    forget_tws_clients()


@pytest.fixture
def staff_token(admin_user: Any) -> str:
    from resync_site.services import token_create

    _, raw = token_create(user=admin_user, name="fuzz", acting_user=admin_user)
    return raw


@schema.parametrize()
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_every_generated_request_as_its_document_says(case: Any, staff_token: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {staff_token}"},
        checks=[not_a_server_error, status_code_conformance, response_schema_conformance],
    )
