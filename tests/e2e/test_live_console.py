"""Browser drills in real headless Chromium against a real `serve`: dashboard, live lines, socket drop, cancel."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ARTIFACTS, Server, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]  # one server per run

START_RUN = """async (system) => {
  const token = document.querySelector('#rs-dash input[name=csrfmiddlewaretoken]').value;
  const answer = await fetch('/api/execute/' + system, {
    method: 'POST', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json', 'X-CSRFToken': token},
    body: JSON.stringify({data_inicial: '2025-01-15'})});
  return {status: answer.status, body: await answer.json()};
}"""


def _start_run(page: Any, server: Server, system: str) -> int:
    page.goto(f"{server.url}/admin/")
    result = page.evaluate(START_RUN, system)
    assert result["status"] == 202, result
    return int(result["body"]["id"])


def _db(server: Server, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{server.database}?mode=ro", uri=True, timeout=30) as conn:
        return list(conn.execute(sql, args))


def test_dashboard_cards_render_and_refresh(page: Any, server: Server) -> None:
    for card in ("etl", "audit", "flags", "tws"):
        assert page.locator(f'[data-card="{card}"]').is_visible()
    assert "Execuções hoje" in page.locator('[data-card="etl"]').inner_text()
    assert page.locator('[data-card="etl"] [data-chart] svg').count() == 1
    assert page.locator("#content-main .module").count() > 0  # the app list stays below the cards
    page.screenshot(path=str(ARTIFACTS / "dashboard-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.locator('[data-card="etl"]').bounding_box()["width"] <= 390
    page.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)


def test_live_lines_appear_and_a_dropped_socket_resumes_without_gap(page: Any, server: Server) -> None:
    job_id = _start_run(page, server, "slowdemo")
    page.goto(f"{server.url}/console/jobs/{job_id}/")
    wait_for(page, "window.resyncLive && window.resyncLive.lastSeq() >= 40")
    assert page.locator(".rs-log-row").count() > 0
    page.screenshot(path=str(ARTIFACTS / "live-running.png"))

    before = page.evaluate("window.resyncLive.lastSeq()")
    page.evaluate("window.resyncLive.socket().close()")  # the network drops mid-run
    wait_for(page, "!window.resyncLive.connected()")
    wait_for(page, f"window.resyncLive.connected() && window.resyncLive.lastSeq() > {before}")
    wait_for(page, "window.resyncLive.finished()", timeout=60_000)
    page.wait_for_timeout(300)  # let the last frame render before the comparison and the screenshot

    shown = page.evaluate("window.resyncLive.seqs()")
    stored = [row[0] for row in _db(server, "SELECT seq FROM etl_logline WHERE job_id = ? ORDER BY seq", job_id)]
    assert stored, "the run stored no lines"
    assert shown == stored  # every line once, in order, none missing
    assert page.locator('[data-role="job-status"]').get_attribute("data-status") == "success"
    # Windowed view: only the rows in sight exist in the DOM.
    assert page.locator(".rs-log-row").count() < len(stored)
    page.screenshot(path=str(ARTIFACTS / "live-finished.png"))


def test_operator_cancels_a_run_and_sees_its_status_change(page: Any, server: Server) -> None:
    job_id = _start_run(page, server, "slowcancel")
    page.goto(f"{server.url}/console/jobs/{job_id}/")
    wait_for(page, "window.resyncLive && window.resyncLive.lastSeq() >= 10")
    page.click('[data-role="cancel"]')
    page.wait_for_selector('[data-role="job-status"][data-status="cancelled"]', timeout=60_000)
    assert _db(server, "SELECT status FROM etl_job WHERE id = ?", job_id) == [("cancelled",)]
    page.screenshot(path=str(ARTIFACTS / "live-cancelled.png"))


def test_a_100k_line_run_stays_windowed_filters_and_scrolls(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/console/jobs/{server.big_job}/")
    wait_for(page, "window.resyncLive && window.resyncLive.lastSeq() === 100000", timeout=120_000)
    assert page.locator(".rs-log-row").count() < 200  # only the rows in sight exist
    assert page.locator(".rs-log-row").last.get_attribute("data-seq") == "100000"  # following: at the bottom

    page.uncheck('[data-role="levels"] input[value="DEBUG"]')
    page.uncheck('[data-role="levels"] input[value="INFO"]')
    expect(page.locator('[data-role="count"]')).to_have_text("40.000 / 100.000")  # pt-BR thousands separators
    levels = {t.split()[1] for t in page.locator(".rs-log-row .rs-meta").all_inner_texts()}
    assert levels <= {"WARNING", "ERROR"}

    page.evaluate("document.querySelector('[data-role=viewport]').scrollTop = 18 * 20000")
    page.wait_for_timeout(200)  # one animation frame renders the new window
    shown = [int(s) for s in page.locator(".rs-log-row").evaluate_all("rows => rows.map(r => r.dataset.seq)")]
    assert min(shown) < 50000 < max(shown)  # the middle of the filtered run, without rendering it all
    assert page.locator('[data-role="follow"]').is_checked() is False  # scrolling up paused following
    page.screenshot(path=str(ARTIFACTS / "live-100k-filtered.png"))
