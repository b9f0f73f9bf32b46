"""Browser drills of the TWS workbench on the demo plan: filter, open, joblog, rerun and hold/release with a reason."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import ARTIFACTS, PASSWORD, Server, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]  # one server per run

LIST = "/admin/tws/jobinplan/"


@pytest.fixture
def page_en(browser: Any, server: Server) -> Iterator[Any]:
    """Return a page logged in to the admin in English."""
    context = browser.new_context(locale="en-US", viewport={"width": 1440, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    tab.goto(f"{server.url}/admin/login/?next=/admin/")
    tab.fill("#id_username", "admin")
    tab.fill("#id_password", PASSWORD)
    tab.click("input[type=submit]")
    tab.wait_for_url(f"{server.url}/admin/")
    try:
        yield tab
    finally:
        context.close()


def _shot(page: Any, step: str, lang: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"tws-{step}-{lang}.png"), full_page=True)


def _open_first(page: Any, server: Server, query: str) -> str:
    page.goto(f"{server.url}{LIST}?{query}")
    page.locator("#result_list tbody tr th a").first.click()
    page.wait_for_selector("#tws-job")
    return str(page.url)


def _act(page: Any, action: str, reason: str) -> None:
    page.click(f'#tws-job-actions [data-action="{action}"]')
    page.fill("#id_reason", reason)
    page.click("#tws-act-submit")
    page.wait_for_selector("#tws-job")


def test_an_operator_reruns_a_job_in_error_with_a_reason(page: Any, server: Server) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{server.url}{LIST}?status__exact=ERROR")
    assert page.locator("#result_list tbody tr").count() > 0
    assert "Atualizado" in page.locator("#tws-plan-updated").inner_text()
    page.locator("#result_list input.action-select").first.check()
    page.wait_for_timeout(100)
    _shot(page, "list-error", "pt-BR")
    job_url = _open_first(page, server, "status__exact=ERROR")
    assert page.locator("#tws-job").get_attribute("data-status") == "ERROR"
    assert page.locator("#tws-joblog").inner_text().strip()  # the joblog, read from HWA
    offered = page.locator("#tws-job-actions [data-action]").evaluate_all("els => els.map(e => e.dataset.action)")
    assert offered == ["rerun"]  # release, kill, hold, cancel: the state forbids them
    _shot(page, "job-error", "pt-BR")
    run_before = int(page.locator("#tws-job-run").inner_text())
    page.click('#tws-job-actions [data-action="rerun"]')
    assert "Motivo" in page.locator("#tws-act-form").inner_text()
    page.fill("#id_reason", "INC-4711 disco liberado")
    _shot(page, "confirm-rerun", "pt-BR")
    page.click("#tws-act-submit")
    page.wait_for_selector("#tws-job")
    assert page.url.split("?")[0] == job_url.split("?")[0]
    assert "aceito pelo HWA" in page.locator(".messagelist").inner_text()
    assert int(page.locator("#tws-job-run").inner_text()) == run_before + 1  # the new run
    assert page.locator("#tws-job").get_attribute("data-status") != "ERROR"
    _shot(page, "rerun-done", "pt-BR")

    page.goto(f"{server.url}/admin/audit/auditentry/?action=tws_job.rerun")
    page.locator("#result_list tbody tr th a").first.click()
    page.wait_for_url("**/auditentry/*/change/**")
    wait_for(page, "!!document.body && document.body.innerText.includes('INC-4711 disco liberado')")
    _shot(page, "audit-reason", "pt-BR")


def test_an_operator_holds_and_releases_a_waiting_job(page: Any, server: Server) -> None:
    _open_first(page, server, "status__exact=WAITING")
    offered = page.locator("#tws-job-actions [data-action]").evaluate_all("els => els.map(e => e.dataset.action)")
    assert offered == ["hold", "cancel"]
    _act(page, "hold", "janela de manutenção")
    assert page.locator("#tws-job").get_attribute("data-status") == "HELD"
    offered = page.locator("#tws-job-actions [data-action]").evaluate_all("els => els.map(e => e.dataset.action)")
    assert "release" in offered
    assert "hold" not in offered
    _shot(page, "job-held", "pt-BR")
    _act(page, "release", "manutenção encerrada")
    assert page.locator("#tws-job").get_attribute("data-status") != "HELD"


def test_the_workbench_in_english(page_en: Any, server: Server) -> None:
    page_en.goto(f"{server.url}{LIST}?status__exact=ERROR")
    _shot(page_en, "list-error", "en")
    _open_first(page_en, server, "status__exact=ERROR")
    assert "Return code" in page_en.locator("#tws-job").text_content()
    _shot(page_en, "job-error", "en")
    page_en.click('#tws-job-actions [data-action="rerun"]')
    assert "Reason" in page_en.locator("#tws-act-form").inner_text()
    _shot(page_en, "confirm-rerun", "en")
