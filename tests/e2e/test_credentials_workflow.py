"""An admin adds a credential with a bad sub-account, then tests good and bad credentials against the system."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import ARTIFACTS, Server
from tests.e2e.test_runs_workflow import use_language

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

WORDS = {
    "pt-BR": {"test": "Testar conexão", "go": "Ir", "accepted": "aceitou o login", "refused": "recusou o login"},
    "en": {"test": "Test connection", "go": "Go", "accepted": "accepted the login", "refused": "refused the login"},
}


def _credential_row(page: Any, label: str) -> Any:
    return page.locator("#result_list tbody tr", has=page.locator(f"th a:text-is('{label}'), td a:text-is('{label}')"))


@pytest.mark.parametrize("language", ["pt-BR", "en"])
def test_bad_subaccount_shows_only_the_field_error_and_keeps_the_input(
    page: Any, server: Server, language: str
) -> None:
    use_language(page, server, language)
    page.goto(f"{server.url}/admin/etl/credential/add/")
    page.select_option("#id_system", label="amplis")
    page.fill("#id_subaccount", "inexistente")
    page.fill("#id_url", "http://127.0.0.1:9")
    page.fill("#id_username", "operador")
    page.fill("#id_password", "uma-senha-1")
    page.click("input[name=_save]")
    page.wait_for_selector(".errornote")
    assert page.locator(".field-subaccount .errorlist").is_visible()
    assert page.locator(".errorlist").count() == 1
    assert page.locator(".messagelist").count() == 0  # no green success, no yellow "ID None"
    assert page.input_value("#id_subaccount") == "inexistente"
    assert page.input_value("#id_username") == "operador"
    page.screenshot(path=str(ARTIFACTS / f"credential-bad-subaccount-{language}.png"), full_page=True)


@pytest.mark.parametrize("language", ["pt-BR", "en"])
def test_connection_test_reports_success_and_the_systems_refusal(page: Any, server: Server, language: str) -> None:
    words = WORDS[language]
    use_language(page, server, language)
    # A wrong password on FIDC (the runs workflow uses MAPS, which stays good).
    page.goto(f"{server.url}/admin/etl/credential/?system__id__exact=&q=")
    page.click("#result_list a:text-is('fidc')")
    page.fill("#id_username", "intruso")
    page.fill("#id_password", "senha-errada-1")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")

    for label, outcome in (("maps", "accepted"), ("fidc", "refused")):
        page.goto(f"{server.url}/admin/etl/credential/")
        row = page.locator("#result_list tbody tr").filter(has=page.locator(f"a:text-is('{label}')"))
        row.locator("input.action-select").check()
        page.select_option("select[name=action]", label=words["test"])
        page.click(f"button[name=index]:has-text('{words['go']}')")
        page.wait_for_selector(".messagelist li")
        text = page.locator(".messagelist").inner_text()
        assert words[outcome] in text, text
        assert "senha-errada-1" not in page.content()
        assert "Error" not in text  # no Python class name
        level = "success" if outcome == "accepted" else "error"
        assert page.locator(f".messagelist li.{level}").count() == 1
        page.screenshot(path=str(ARTIFACTS / f"credential-test-{outcome}-{language}.png"), full_page=True)
