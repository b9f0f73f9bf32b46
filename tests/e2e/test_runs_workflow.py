"""An operator starts a run from the run form, watches it, searches its log, cancels it and re-runs what failed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import ARTIFACTS, Server, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

WORDS = {
    "pt-BR": {
        "start": "Iniciar execução",
        "submit": "Iniciar a execução",
        "rerun_failed": "Reexecutar sistemas com falha",
    },
    "en": {"start": "Start a run", "submit": "Start the run", "rerun_failed": "Re-run failed systems"},
}


def use_language(page: Any, server: Server, language: str) -> None:
    """Choose ``language`` with the selector in the admin header, as an operator would."""
    page.goto(f"{server.url}/admin/")
    code = "pt-br" if language == "pt-BR" else "en"
    if page.evaluate("document.documentElement.lang.toLowerCase()") != code:
        with page.expect_navigation():
            page.select_option('[data-role="language"] select', code)
    assert page.evaluate("document.documentElement.lang.toLowerCase()") == code


@pytest.mark.parametrize("language", ["pt-BR", "en"])
def test_run_two_systems_watch_search_cancel_and_rerun_the_failed_one(page: Any, server: Server, language: str) -> None:
    words = WORDS[language]
    use_language(page, server, language)
    page.click(f'#rs-dash a[data-role="new-run"]:has-text("{words["start"]}")')
    page.wait_for_selector('[data-role="run-form"]')

    # A date range backwards is refused next to the field, and what was typed stays.
    page.check('input[name=sistemas][value="maps"]')
    page.check('input[name=sistemas][value="slowcancel"]')
    page.fill("#id_data_inicial", "2025-01-15")
    page.fill("#id_data_final", "2025-01-10")
    page.click('[data-role="start"]')
    assert page.locator(".field-data_final .errorlist").is_visible()
    assert page.input_value("#id_data_inicial") == "2025-01-15"
    assert page.is_checked('input[name=sistemas][value="slowcancel"]')
    page.screenshot(path=str(ARTIFACTS / f"run-form-error-{language}.png"), full_page=True)

    page.fill("#id_data_final", "2025-01-16")
    page.click('[data-role="start"]')
    page.wait_for_url("**/console/jobs/*/")
    assert page.locator(".messagelist a[href*='/console/jobs/']").count() == 1  # the queued message links here
    wait_for(page, "window.resyncLive && window.resyncLive.lastSeq() >= 30", timeout=90_000)
    page.screenshot(path=str(ARTIFACTS / f"run-live-{language}.png"), full_page=True)

    page.fill('[data-role="search"]', "line 7 of")
    shown = "[...document.querySelectorAll('.rs-log-row .rs-msg')].map(e => e.textContent)"
    wait_for(page, f"{shown}.length > 0 && {shown}.every(t => t.includes('line 7 of'))")
    assert page.evaluate("window.resyncLive.visibleCount()") < page.evaluate("window.resyncLive.seqs().length")
    page.screenshot(path=str(ARTIFACTS / f"run-search-{language}.png"), full_page=True)
    page.fill('[data-role="search"]', "")
    wait_for(page, "window.resyncLive.visibleCount() > 100")

    # Scrolling up pauses the view; new lines are counted on a button that resumes following.
    page.locator('[data-role="viewport"]').evaluate(
        "el => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); }"
    )
    page.wait_for_selector('[data-role="new-lines"]:not([hidden])', timeout=30_000)
    assert "↓" in page.locator('[data-role="new-lines"]').inner_text()
    page.screenshot(path=str(ARTIFACTS / f"run-paused-{language}.png"))
    page.click('[data-role="new-lines"]')
    assert page.is_checked('[data-role="follow"]')
    assert page.locator('[data-role="new-lines"]').is_hidden()

    page.click('[data-role="cancel"]')
    page.wait_for_selector('[data-role="job-status"][data-status="cancelled"]', timeout=60_000)
    maps = page.locator('[data-role="steps"] li[data-system="maps"] .rs-badge')
    assert maps.get_attribute("data-status") == "success"
    page.screenshot(path=str(ARTIFACTS / f"run-cancelled-{language}.png"), full_page=True)

    old = page.url
    page.click(f'[data-role="rerun-failed"] button:has-text("{words["rerun_failed"]}")')
    page.wait_for_url(lambda url: url != old and "/console/jobs/" in url)
    systems = page.locator('[data-role="steps"] li').evaluate_all("items => items.map(i => i.dataset.system)")
    assert systems == ["slowcancel"]
    wait_for(page, "window.resyncLive && window.resyncLive.lastSeq() >= 5", timeout=60_000)
    page.screenshot(path=str(ARTIFACTS / f"run-rerun-failed-{language}.png"), full_page=True)
    page.click('[data-role="cancel"]')  # leave the system idle for the next test
    page.wait_for_selector('[data-role="job-status"][data-status="cancelled"]', timeout=60_000)


def test_runs_index_lists_runs_with_links_on_desktop_and_phone(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/admin/")
    page.click("#user-tools a[href='/console/']")  # "View site"
    page.wait_for_selector('[data-role="runs"] tbody tr')
    first = page.locator('[data-role="runs"] tbody tr a').first
    assert "/console/jobs/" in (first.get_attribute("href") or "")
    page.screenshot(path=str(ARTIFACTS / "runs-index-pt-BR.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "runs-index-phone.png"), full_page=True)
