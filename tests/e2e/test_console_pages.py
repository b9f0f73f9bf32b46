"""Every admin page and the live page speak Portuguese; the dashboard fills 1440 px; a language on login."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import ARTIFACTS, PASSWORD, Server, wait_for
from tests.e2e.test_runs_workflow import use_language

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

# English that the issue found under pt-BR: app and model names, custom actions, messages, states, buttons.
LEAKS = [
    "Operations",
    "Run now",
    "Activate/deactivate",
    "Cancel the selected",
    "Re-run the selected",
    "Activate the selected",
    "Deactivate the selected",
    "Test connection",
    "Acknowledge selected",
    "Revoke selected",
    "Start a run",
    "Watch live",
    "password set",
    "not set",
    "ETL pipelines",
    "Workload scheduler",
    "Resync platform",
    "Credentials",
    "Systems",
    "Funds",
    "Positions",
    "Paths",
    "Jobs in plan",
    "Job streams",
    "Workstations",
    "Sync runs",
    "TWS connections",
    "API tokens",
    "Alerts",
    "Save",
    "Delete",
    "Runs",
    "Search",
    "Filter",
    "Download full log",
    "Cancel run",
    "Re-run",
    "Levels",
    "Follow",
    "connecting",
    "offline",
    "Elapsed",
    "Home",
    "Language",
    "Progress",
    "Duration",
]
STATES = re.compile(r"\b(pending|running|success|cancelled|degraded)\b")  # upper case: TWS states are data
# Interface text only (labels, headings, buttons, badges, menus, messages), not data such as log lines.
CHROME_TEXT = """() => {
  const picked = [];
  const sel = 'h1, h2, h3, th, label, legend, button, .button, .rs-badge, caption, .breadcrumbs, #nav-sidebar a,'
    + ' .object-tools a, .messagelist li, select[name=action] option, .submit-row input, .rs-notice, .rs-conn,'
    + ' #user-tools, .paginator, .help, .errornote, .rs-metrics dt, .rs-legend';
  document.querySelectorAll(sel).forEach(
    el => picked.push((el.value && el.tagName === 'INPUT') ? el.value : el.innerText));
  return picked.join('\\n');
}"""


def _leaks(text: str) -> list[str]:
    found = [word for word in LEAKS if re.search(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])", text)]
    return found + STATES.findall(text)


def _admin_pages(page: Any, server: Server) -> list[str]:
    page.goto(f"{server.url}/admin/")
    hrefs = page.evaluate(
        "() => [...document.querySelectorAll('#content-main .module a')].map(a => a.getAttribute('href'))"
    )
    pages = ["/admin/", "/console/", "/console/run/", f"/console/jobs/{server.big_job}/"]
    for href in hrefs:
        if href and href.startswith("/admin/") and href not in pages:
            pages.append(href)
    return pages


OVERFLOW = (
    "(() => { const box = document.querySelector('.results'); return box ? box.scrollWidth - box.clientWidth : 0; })()"
)


def test_every_admin_page_and_the_live_page_speak_portuguese(page: Any, server: Server) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    use_language(page, server, "pt-BR")
    problems: dict[str, list[str]] = {}
    cut: dict[str, int] = {}
    visited = 0
    for path in _admin_pages(page, server):
        targets = [path]
        if path.endswith("/") and path.count("/") == 4 and not path.endswith("/add/"):  # a change list: one object too
            page.goto(server.url + path)
            first = page.locator("#result_list tbody tr th a").first
            if first.count():
                targets.append(first.get_attribute("href") or "")
        for target in targets:
            response = page.goto(server.url + target)
            assert response is not None
            assert response.status < 400, (target, response.status)
            visited += 1
            found = _leaks(page.evaluate(CHROME_TEXT))
            if found:
                problems[target] = found
            if page.evaluate(OVERFLOW) > 0:  # a list whose columns do not fit 1440 px
                cut[target] = page.evaluate(OVERFLOW)
    assert visited > 20
    page.goto(f"{server.url}/console/jobs/{server.big_job}/")
    page.screenshot(path=str(ARTIFACTS / "live-page-pt-BR.png"))
    # Apps still being translated by their owners (flags, audit) are reported only for the words above.
    assert not problems, problems
    assert not cut, sorted(cut.items())


@pytest.mark.parametrize("language", ["pt-BR", "en"])
def test_dashboard_uses_the_full_width_and_its_counts_link_to_filtered_lists(
    page: Any, server: Server, language: str
) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    use_language(page, server, language)
    dash = page.locator("#rs-dash").bounding_box()
    assert dash["width"] >= 1440 - 2 * 60  # the whole content area, not 900 px
    link = page.locator('[data-card="etl"] [data-metric="running_now"] dd a')
    assert link.count() == 1
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{language}.png"), full_page=True)
    link.click()
    page.wait_for_url("**/console/?status=running*")
    page.goto(f"{server.url}/admin/etl/job/")
    table = page.locator("#result_list").bounding_box()
    content = page.locator("#changelist").bounding_box()
    assert table["width"] <= content["width"] + 1  # every column fits
    page.screenshot(path=str(ARTIFACTS / f"jobs-list-{language}.png"), full_page=True)
    page.click("#result_list tbody tr th a")  # the job page: read-only, one log view, Re-run and Cancel
    page.wait_for_selector("#rs-live")
    assert page.locator("input[name=_save]").count() == 0
    assert page.locator('[data-role="viewport"]').count() == 1
    page.screenshot(path=str(ARTIFACTS / f"job-page-{language}.png"), full_page=True)


def test_phone_screenshots_of_dashboard_runs_and_live_page(page: Any, server: Server) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    for name, path in (
        ("dashboard", "/admin/"),
        ("runs-index", "/console/"),
        ("live-page", f"/console/jobs/{server.big_job}/"),
    ):
        page.goto(server.url + path)
        page.wait_for_load_state("load")
        if name == "live-page":
            wait_for(page, "window.resyncLive && window.resyncLive.lastSeq() > 1000")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390 + 1, (name, width)  # nothing forces sideways scrolling
        page.screenshot(path=str(ARTIFACTS / f"{name}-phone-pt-BR.png"), full_page=False)


def test_login_page_offers_the_language(browser: Any, server: Server) -> None:
    for language, code, word in (("pt-BR", "pt-br", "Idioma"), ("en", "en", "Language")):
        context = browser.new_context(locale="pt-BR", viewport={"width": 1280, "height": 800})
        tab = context.new_page()
        tab.goto(f"{server.url}/admin/login/")
        if code != "pt-br":
            with tab.expect_navigation():
                tab.select_option('[data-role="language"] select', code)
        assert word in tab.locator('[data-role="language"]').inner_text()
        assert tab.evaluate("document.documentElement.lang.toLowerCase()") == code
        tab.screenshot(path=str(ARTIFACTS / f"login-{language}.png"))
        context.close()


LOGOUT = """() => fetch('/admin/logout/', {method: 'POST', credentials: 'same-origin',
  headers: {'X-CSRFToken': document.querySelector('[data-role=csrf]').value}})"""


def test_live_page_says_the_session_ended_with_a_link_to_log_in(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/console/run/")
    page.check('input[name=sistemas][value="slowcancel"]')
    page.fill("#id_data_inicial", "2025-01-15")
    page.click('[data-role="start"]')
    page.wait_for_url("**/console/jobs/*/")
    live = page.url
    page.wait_for_selector('[data-role="conn"][data-state="live"]')
    # The session ends elsewhere (a logout in another tab); the socket drops and the server refuses it.
    page.evaluate(LOGOUT)
    page.evaluate("window.resyncLive.socket() && window.resyncLive.socket().close()")
    page.wait_for_selector('[data-role="login-again"]', timeout=30_000)
    link = page.locator('[data-role="login-again"]')
    assert "Entrar novamente" in link.inner_text()
    page.screenshot(path=str(ARTIFACTS / "live-session-ended-pt-BR.png"))
    link.click()  # back to the login page, then straight back to this run
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(live)
    page.wait_for_selector('[data-role="conn"][data-state="live"]')
    page.click('[data-role="cancel"]')
    page.wait_for_selector('[data-role="job-status"][data-status="cancelled"]', timeout=60_000)


def test_cancel_falls_back_to_rest_when_the_socket_is_down(page: Any, server: Server) -> None:
    import sqlite3

    page.goto(f"{server.url}/console/run/")
    page.check('input[name=sistemas][value="slowcancel"]')
    page.fill("#id_data_inicial", "2025-01-15")
    page.click('[data-role="start"]')
    page.wait_for_url("**/console/jobs/*/")
    job_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    wait_for(page, "window.resyncLive && window.resyncLive.lastSeq() >= 5", timeout=60_000)
    # The network drops and the socket cannot come back.
    page.evaluate("() => { window.WebSocket = function () { throw new Error('offline'); }; }")
    page.evaluate("window.resyncLive.socket().close()")
    wait_for(page, "!window.resyncLive.connected()")
    page.click('[data-role="cancel"]')
    page.wait_for_selector('[data-role="notice"]:not([hidden])')
    assert "Cancelamento solicitado" in page.locator('[data-role="notice"]').inner_text()
    page.screenshot(path=str(ARTIFACTS / "live-cancel-over-rest-pt-BR.png"))
    deadline = 60
    status = ""
    for _ in range(deadline * 10):
        with sqlite3.connect(f"file:{server.database}?mode=ro", uri=True, timeout=30) as conn:
            status = conn.execute("SELECT status FROM etl_job WHERE id = ?", (job_id,)).fetchone()[0]
        if status == "cancelled":
            break
        page.wait_for_timeout(100)
    assert status == "cancelled"
