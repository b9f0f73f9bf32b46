"""Reading jobs: lists with filters, detail with steps, logs after a seq, history, rerun, stats, portfolio."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone

from etl.models import Job, JobStep, Status, System
from etl.runner.job import run_job


@pytest.fixture
def finished_job(make_system: Any, start_job: Any, no_enqueue: None) -> Job:
    make_system("maps", script="print('[INFO] [MAPS] one'); print('[INFO] [MAPS] two')")
    job = start_job("maps")
    run_job(job.pk)
    job.refresh_from_db()
    return job


pytestmark = pytest.mark.django_db(transaction=True)


def test_job_list_filters_by_status_system_and_dates(
    viewer_client: Any, make_system: Any, start_job: Any, no_enqueue: None, operator: Any
) -> None:
    from etl.services import job_cancel

    make_system("maps")
    make_system("fidc")
    maps_job = start_job("maps")
    job_cancel(job_id=maps_job.pk, acting_user=operator)
    fidc_job = start_job("fidc")
    Job.objects.filter(pk=maps_job.pk).update(created_at=timezone.now() - dt.timedelta(days=3))

    def ids(query: str) -> list[int]:
        answer = viewer_client.get("/api/jobs" + query)
        assert answer.status_code == 200, answer.content
        return [j["id"] for j in answer.json()["items"]]

    assert ids("") == [fidc_job.pk, maps_job.pk]
    assert ids("?status=cancelled") == [maps_job.pk]
    assert ids("?sistema=fidc") == [fidc_job.pk]
    today = timezone.localdate()
    assert ids(f"?data_de={today.isoformat()}") == [fidc_job.pk]
    assert ids(f"?data_ate={(today - dt.timedelta(days=1)).isoformat()}") == [maps_job.pk]
    assert ids("?limit=1") == [fidc_job.pk]
    assert viewer_client.get("/api/jobs?limit=1").json()["count"] == 2
    assert viewer_client.get("/api/jobs?data_de=yesterday").status_code == 422
    assert viewer_client.get("/api/jobs/history").json()["count"] == 1


def test_job_detail_shows_steps_and_logs_resume_after_a_seq(viewer_client: Any, finished_job: Job) -> None:
    detail = viewer_client.get(f"/api/jobs/{finished_job.pk}").json()
    assert detail["status"] == "success"
    assert (detail["steps"][0]["sistema"], detail["steps"][0]["sistema_id"]) == ("MAPS", "maps")
    assert detail["steps"][0]["linhas"] == 2
    assert detail["duracao_segundos"] is not None
    lines = viewer_client.get(f"/api/jobs/{finished_job.pk}/logs?after_seq=1").json()
    assert [(line["seq"], line["mensagem"]) for line in lines] == [(2, "two")]
    assert viewer_client.get("/api/jobs/999999").status_code == 404


def test_rerun_creates_a_linked_job_with_the_same_options(operator_client: Any, finished_job: Job) -> None:
    answer = operator_client.post(f"/api/jobs/{finished_job.pk}/rerun")
    assert answer.status_code == 202, answer.content
    rerun = Job.objects.get(pk=answer.json()["id"])
    assert rerun.rerun_of_id == finished_job.pk
    assert rerun.options == finished_job.options
    assert rerun.status == "pending"
    again = operator_client.post(f"/api/jobs/{rerun.pk}/rerun")
    assert again.status_code == 409
    assert again.json()["code"] == "job_state"


def test_cancel_endpoint(
    operator_client: Any, viewer_client: Any, make_system: Any, start_job: Any, no_enqueue: None
) -> None:
    make_system("maps")
    job = start_job("maps")
    assert viewer_client.post(f"/api/cancel/{job.pk}").status_code == 403
    answer = operator_client.post(f"/api/cancel/{job.pk}")
    assert answer.status_code == 202
    assert answer.json()["status"] == "cancelled"
    assert operator_client.post(f"/api/cancel/{job.pk}").status_code == 409
    assert operator_client.post("/api/cancel/424242").status_code == 404


def test_stats_count_today_rates_and_durations(
    viewer_client: Any, finished_job: Job, start_job: Any, operator: Any
) -> None:
    from etl.services import job_cancel

    job_cancel(job_id=start_job("maps").pk, acting_user=operator)
    stats = viewer_client.get("/api/stats").json()
    assert stats["execucoes_hoje"] == 2
    assert stats["taxa_sucesso_7d"] == 50.0
    assert stats["taxa_sucesso_30d"] == 50.0
    assert set(stats["duracao_por_sistema"]) == {"maps"}
    assert stats["execucoes_por_dia"][-1]["total"] == 2
    assert stats["execucoes_por_dia"][-1]["sucesso"] == 1


def test_portfolio_lists_positions_with_totals(viewer_client: Any, make_system: Any) -> None:
    from decimal import Decimal

    from etl.models import Fund, Position

    system = make_system("maps")
    fund = Fund.objects.create(system=system, code="F1", name="Fund 1")
    for asset, value in (("PETR4", "100.50"), ("VALE3", "200.25")):
        Position.objects.create(
            system=system,
            fund=fund,
            asset=asset,
            quantity=Decimal(1),
            price=Decimal(value),
            value=Decimal(value),
            date=dt.date(2025, 1, 15),
        )
    answer = viewer_client.get("/api/portfolio?sistema=maps").json()
    assert answer["data"] == "2025-01-15"
    assert len(answer["posicoes"]) == 2
    assert answer["valor_total"] == "300.75"
    assert answer["totais_por_fundo"] == [{"sistema": "maps", "fundo": "F1", "valor": "300.75", "ativos": 2}]


def test_systems_toggle_and_options(
    admin_client_: Any, operator_client: Any, viewer_client: Any, make_system: Any
) -> None:
    make_system("amplis")
    make_system("maps")
    assert [s["code"] for s in viewer_client.get("/api/sistemas").json()] == ["amplis", "maps"]
    assert operator_client.patch("/api/sistemas/maps/toggle").status_code == 403
    toggled = admin_client_.patch("/api/sistemas/maps/toggle")
    assert toggled.status_code == 200
    assert toggled.json()["ativo"] is False
    assert [s["code"] for s in viewer_client.get("/api/sistemas/ativos").json()] == ["amplis"]
    ok = admin_client_.patch(
        "/api/sistemas/amplis/opcao", data={"opcao": "subcontas", "valor": ["reag"]}, content_type="application/json"
    )
    assert ok.status_code == 200
    assert ok.json()["opcoes"]["subcontas"] == ["reag"]
    bad = admin_client_.patch(
        "/api/sistemas/amplis/opcao", data={"opcao": "dias_retroativos", "valor": "3"}, content_type="application/json"
    )
    assert bad.status_code == 422
    assert bad.json()["detail"].startswith("valor")
    unknown = admin_client_.patch(
        "/api/sistemas/amplis/opcao", data={"opcao": "cor", "valor": 1}, content_type="application/json"
    )
    assert unknown.status_code == 422
    assert unknown.json()["detail"].startswith("opcao")
    assert System.objects.get(code="amplis").options["dias_retroativos"] == 0


def test_funds_and_paths(
    admin_client_: Any, viewer_client: Any, make_system: Any, tmp_path: Any, settings: Any
) -> None:
    make_system("maps")
    created = admin_client_.post(
        "/api/sistemas/maps/fundos", data={"code": "F1", "name": "Um"}, content_type="application/json"
    )
    assert created.status_code == 200
    admin_client_.post(
        "/api/sistemas/maps/fundos", data={"code": "F2", "name": "Dois"}, content_type="application/json"
    )
    assert viewer_client.get("/api/sistemas/maps/fundos?q=dois").json()["count"] == 1
    off = admin_client_.post(
        "/api/fundos/ativo", data={"ids": [created.json()["id"]], "ativo": False}, content_type="application/json"
    )
    assert off.json() == {"count": 1}
    settings.ETL_REPORT_ROOTS = [str(tmp_path / "reports")]
    folder = tmp_path / "reports" / "csv"
    saved = admin_client_.put("/api/paths/csv", data={"path": str(folder)}, content_type="application/json")
    assert saved.status_code == 200
    assert not folder.exists()  # the worker creates it on first use, not the web
    relative = admin_client_.put("/api/paths/pdf", data={"path": "relative/dir"}, content_type="application/json")
    assert relative.status_code == 422
    assert relative.json()["detail"].startswith("path: ")
    assert viewer_client.get("/api/paths").json() == [{"kind": "csv", "path": str(folder)}]


def test_events_are_published_in_the_documented_shapes(finished_job: Job, make_system: Any, start_job: Any) -> None:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from etl.events import ALL_JOBS_GROUP

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(ALL_JOBS_GROUP, channel)
    try:
        job = start_job("maps")
        run_job(job.pk)

        async def drain() -> list[dict[str, Any]]:
            import asyncio

            out = []
            while True:
                try:
                    event = await asyncio.wait_for(layer.receive(channel), 0.5)
                except TimeoutError:
                    return out
                if event["type"] == "etl.lines":  # a run of log lines, published pre-serialised
                    out.extend({"type": "log", "payload": line} for line in json.loads(event["lines"]))
                else:
                    out.extend(event["messages"])

        messages = async_to_sync(drain)()
    finally:
        async_to_sync(layer.group_discard)(ALL_JOBS_GROUP, channel)
    logs = [m for m in messages if m["type"] == "log"]
    assert [m["payload"]["mensagem"] for m in logs] == ["one", "two"]
    assert set(logs[0]["payload"]) == {"job_id", "level", "sistema", "sistema_id", "mensagem", "timestamp", "seq"}
    assert (logs[0]["payload"]["sistema"], logs[0]["payload"]["sistema_id"]) == ("MAPS", "maps")
    assert logs[0]["payload"]["timestamp"].endswith("Z")
    statuses = [m["payload"] for m in messages if m["type"] == "status"]
    assert {"job_id", "sistema_id", "status", "progresso", "mensagem"} == set(statuses[0])
    assert "RUNNING" in {s["status"] for s in statuses}
    complete = [m for m in messages if m["type"] == "job_complete"]
    assert len(complete) == 1
    assert complete[0]["payload"]["job_id"] == job.pk
    assert complete[0]["payload"]["status"] == "SUCCESS"
    assert isinstance(complete[0]["payload"]["duracao_segundos"], int)
    assert JobStep.objects.get(job=job).status == Status.SUCCESS
