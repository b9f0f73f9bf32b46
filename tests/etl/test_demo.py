"""The demo reports server and the demo loader."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import httpx
import pytest

from etl.demo.reports import demo_password


def test_reports_are_served_behind_basic_auth(demo_server: str) -> None:
    auth = ("maps-user", demo_password("maps", ""))
    with httpx.Client(base_url=demo_server) as client:
        assert client.get("/maps/positions.csv", params={"data": "2025-01-15"}).status_code == 401
        assert (
            client.get("/maps/positions.csv", params={"data": "2025-01-15"}, auth=("maps-user", "x")).status_code == 401
        )
        csv = client.get("/maps/positions.csv", params={"data": "2025-01-15"}, auth=auth)
        assert csv.status_code == 200
        assert csv.text.startswith("fundo;ativo;quantidade;preco;valor;data\n")
        pdf = client.get("/maps/report.pdf", params={"data": "2025-01-15"}, auth=auth)
        assert pdf.content.startswith(b"%PDF-1.4")
        xlsx = client.get("/maps/report.xlsx", params={"data": "2025-01-15"}, auth=auth)
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(xlsx.content)).active
        assert sheet is not None
        assert sheet["A1"].value == "fundo"
        reag = ("amplis-reag", demo_password("amplis", "reag"))
        forbidden = client.get("/amplis/positions.csv", params={"data": "2025-01-15", "conta": "master"}, auth=reag)
        assert forbidden.status_code == 403
        assert client.get("/nope/positions.csv", params={"data": "2025-01-15"}, auth=auth).status_code == 404


def test_the_demo_loader_is_idempotent_and_seals_its_passwords(db: None, settings: Any) -> None:
    from etl.demo.loader import load
    from etl.models import Credential, Fund, PathConfig, System

    first = load()
    second = load()
    assert "3 systems" in first
    assert "0 new credentials" in second
    assert System.objects.count() == 3
    assert Fund.objects.count() == 7
    assert Credential.objects.count() == 4
    assert all(c.password_is_set and "demo" not in c.password_sealed for c in Credential.objects.all())
    assert {p.kind for p in PathConfig.objects.all()} == {"csv", "pdf", "excel"}
    assert all(p.path.startswith(str(settings.VAR_DIR)) for p in PathConfig.objects.all())


@pytest.mark.django_db(transaction=True)
async def test_the_embedded_server_falls_back_to_a_free_port_and_moves_the_demo_there(settings: Any) -> None:
    from asgiref.sync import sync_to_async

    from etl.demo.loader import load
    from etl.demo.server import run, start
    from etl.models import Credential, System

    runner, url = await start("127.0.0.1", 0)
    settings.ETL_DEMO_SERVER_PORT = int(url.rsplit(":", 1)[1])  # taken: run() must pick another
    await sync_to_async(load)()
    seen: list[int] = []

    async def exercise() -> None:
        async with asyncio.TaskGroup() as tg:
            second = await run(tg, "127.0.0.1")
            async with httpx.AsyncClient() as client:
                seen.append((await client.get(f"{second}/maps/positions.csv")).status_code)
            seen.append(int(second != url))
            raise RuntimeError("stop the group")

    try:
        with pytest.raises(ExceptionGroup):
            await exercise()
    finally:
        await runner.cleanup()
    assert seen == [401, 1]
    moved = await sync_to_async(
        lambda: {s.base_url for s in System.objects.all()} | {c.url for c in Credential.objects.all()}
    )()
    assert len(moved) == 1
    assert moved != {url}
