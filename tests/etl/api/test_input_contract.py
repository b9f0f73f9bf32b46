"""One input contract at the edge: control characters, over-long strings, huge ids and bad date ranges are 422s.

Every case runs on SQLite and again in the PostgreSQL pass (the ``postgres`` parameter), where a NUL byte or an
integer past bigint used to reach the database and come back as a 500.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone

from etl.models import Fund, Job, PathConfig, System

pytestmark = pytest.mark.django_db

BIG = "9223372036854775808"  # one past bigint


@pytest.fixture(params=["any-database", pytest.param("postgres", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> str:
    """Run the test once on the current database and once more, marked, for the PostgreSQL pass."""
    return str(request.param)


@pytest.fixture
def staff(admin_client_: Any, make_system: Any, no_enqueue: None, database: str) -> Any:
    make_system("maps")
    return admin_client_


def _send(client: Any, method: str, path: str, body: Any = None) -> Any:
    if body is None:
        return getattr(client, method)(path)
    return getattr(client, method)(path, data=json.dumps(body), content_type="application/json")


# (method, path, body, field named in the answer)
CASES = [
    ("get", "/api/jobs?sistema=ma%00ps", None, "sistema"),
    ("get", "/api/jobs?status=%00", None, "status"),
    ("get", "/api/jobs/history?sistema=" + "m" * 41, None, "sistema"),
    ("get", "/api/portfolio?fundo=F%00", None, "fundo"),
    ("get", "/api/portfolio?sistema=a%0Ab", None, "sistema"),
    ("get", "/api/sistemas/maps/fundos?q=%00", None, "q"),
    ("get", "/api/sistemas/ma%00ps", None, "system_id"),
    ("get", "/api/sistemas/" + "x" * 41, None, "system_id"),
    ("patch", "/api/sistemas/ma%00ps/toggle", None, "system_id"),
    ("get", "/api/jobs/" + BIG, None, "job_id"),
    ("post", "/api/jobs/" + BIG + "/rerun", None, "job_id"),
    ("post", "/api/cancel/" + BIG, None, "job_id"),
    ("get", "/api/jobs/1/logs?after_seq=" + BIG, None, "after_seq"),
    ("get", "/api/jobs?offset=" + BIG, None, "offset"),
    ("patch", "/api/sistemas/maps/opcao", {"opcao": "a\x00", "valor": True}, "opcao"),
    ("post", "/api/sistemas/maps/fundos", {"code": "F\x00"}, "code"),
    ("post", "/api/sistemas/maps/fundos", {"code": "F" * 61}, "code"),
    ("post", "/api/sistemas/maps/fundos", {"code": "F1", "name": "n" * 201}, "name"),
    ("post", "/api/sistemas/maps/fundos", {"code": "F1", "name": "a\u0085b"}, "name"),
    ("post", "/api/fundos/ativo", {"ids": [int(BIG)], "ativo": True}, "ids.0"),
    ("post", "/api/execute", {"sistemas": ["maps\x00"], "data_inicial": "2025-01-15"}, "sistemas.0"),
    ("post", "/api/execute", {"sistemas": ["maps"], "data_inicial": "2025-01-15\x00"}, "data_inicial"),
    ("post", "/api/execute/ma%00ps", {"data_inicial": "2025-01-15"}, "system_id"),
    ("post", "/api/credentials", {"maps": {"username": "u\x00", "password": "p"}}, "maps.username"),
    ("post", "/api/credentials", {"maps": {"username": "u" * 151, "password": "p"}}, "maps.username"),
    ("post", "/api/credentials", {"maps": {"username": "u", "url": "http://h/" + "x" * 200}}, "maps.url"),
    ("post", "/api/credentials", {"ma\x00ps": {"username": "u", "password": "p"}}, "credentials"),
    ("put", "/api/paths/csv", {"path": "/srv/a\x00b"}, "path"),
    ("put", "/api/paths/cs%00v", {"path": "/srv/x"}, "kind"),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), CASES)
def test_bad_input_is_a_422_naming_the_field_as_sent(staff: Any, method: str, path: str, body: Any, field: str) -> None:
    before = (Job.objects.count(), Fund.objects.count(), PathConfig.objects.count())
    response = _send(staff, method, path, body)
    assert response.status_code == 422, response.content
    answer = response.json()
    assert answer["code"] == "validation_error"
    assert answer["detail"].startswith(f"{field}: ") or f"; {field}: " in answer["detail"], answer
    assert (Job.objects.count(), Fund.objects.count(), PathConfig.objects.count()) == before


def test_a_fund_at_the_column_limits_is_stored(staff: Any) -> None:
    response = _send(staff, "post", "/api/sistemas/maps/fundos", {"code": "F" * 60, "name": "n" * 200})
    assert response.status_code == 200, response.content
    assert Fund.objects.get(code="F" * 60).name == "n" * 200


def test_an_unknown_digit_like_system_id_is_not_found(staff: Any) -> None:
    # "²" is a digit to str.isdigit() but not to int(): once a 500.
    for ref in ("%C2%B2", "99999999999999999999999", "-maps"):
        response = staff.get(f"/api/sistemas/{ref}")
        assert response.status_code in (404, 422), (ref, response.content)


def test_the_last_date_there_is_is_a_valid_filter(staff: Any) -> None:
    response = staff.get("/api/jobs?data_de=0001-01-01&data_ate=9999-12-31")
    assert response.status_code == 200, response.content


def _today() -> dt.date:
    return timezone.localdate()


@pytest.mark.parametrize(
    ("days_back", "span", "field"),
    [
        (-1, 0, "data_inicial"),  # tomorrow
        (0, 1, "data_final"),  # today to tomorrow
        (60, 31, "data_final"),  # 32 days
    ],
)
def test_dates_in_the_future_or_past_the_pipeline_limit_are_refused(
    staff: Any, days_back: int, span: int, field: str
) -> None:
    start = _today() - dt.timedelta(days=days_back)
    body = {
        "sistemas": ["maps"],
        "data_inicial": start.isoformat(),
        "data_final": (start + dt.timedelta(span)).isoformat(),
    }
    response = _send(staff, "post", "/api/execute", body)
    assert response.status_code == 422, response.content
    assert response.json()["detail"].startswith(f"{field}: ")
    assert Job.objects.count() == 0


def test_a_range_of_exactly_the_pipeline_limit_is_accepted(staff: Any) -> None:
    start = _today() - dt.timedelta(days=40)
    body = {
        "sistemas": ["maps"],
        "data_inicial": start.isoformat(),
        "data_final": (start + dt.timedelta(30)).isoformat(),
    }
    response = _send(staff, "post", "/api/execute", body)
    assert response.status_code == 202, response.content


def test_a_system_code_that_could_be_an_option_is_refused(admin_user: Any) -> None:
    from etl import services
    from etl.exceptions import InvalidInput

    for code in ("-x", "--sistemas", "Maps", "a b", "ma\x00ps", "x" * 41):
        with pytest.raises(InvalidInput, match=r"^code: "):
            services.system_save(code=code, name="X", acting_user=admin_user)
    assert not System.objects.exists()
