"""Stats on both databases: the median comes from percentile_cont on PostgreSQL and Python on SQLite."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from etl import selectors
from etl.models import Job, JobStep, System


def _finished(system: System, seconds: float, status: str = "success", days_ago: int = 0) -> None:
    created = timezone.now() - dt.timedelta(days=days_ago)
    job = Job.objects.create(kind="single", systems=[system.code], options={}, status=status, created_at=created)
    JobStep.objects.create(
        job=job,
        system=system,
        order=1,
        status=status,
        finished_at=created,
        started_at=created,
        duration_seconds=seconds,
    )


def _drill(make_system: Any) -> None:
    maps = make_system("maps")
    for seconds in (10, 20, 60):
        _finished(maps, seconds)
    _finished(maps, 999, status="error")
    _finished(maps, 30, days_ago=10)
    _finished(maps, 30, days_ago=40)  # outside the 30-day window
    stats = selectors.stats()
    assert stats["execucoes_hoje"] == 4
    assert stats["taxa_sucesso_7d"] == 75.0
    assert stats["taxa_sucesso_30d"] == 80.0
    assert stats["duracao_por_sistema"] == {"maps": {"media_segundos": 30.0, "mediana_segundos": 25.0}}
    assert sum(d["total"] for d in stats["execucoes_por_dia"]) == 5


def test_stats_on_sqlite(make_system: Any) -> None:
    _drill(make_system)


@pytest.mark.postgres
def test_stats_on_postgresql(make_system: Any) -> None:
    _drill(make_system)


def test_cached_stats_are_dropped_when_a_job_finishes(make_system: Any) -> None:
    maps = make_system("maps")
    assert selectors.stats_cached()["execucoes_hoje"] == 0
    _finished(maps, 5)
    assert selectors.stats_cached()["execucoes_hoje"] == 0  # still the cached answer
    selectors.stats_forget()
    assert selectors.stats_cached()["execucoes_hoje"] == 1
