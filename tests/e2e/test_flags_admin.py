"""The flags screen as an Admin uses it: a rollout with no evidence is refused, rollback asks why, no delete."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import ARTIFACTS, Server

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

FLAG = "TWS_UNIFIED_V2_ENABLED"
TEXT = {
    "pt-BR": {
        "advance": "Avançar o rollout (números do portão antes)",
        "rollback": "Reverter para 0% agora (pede um motivo)",
        "question": "Avançar o rollout?",
        "yes_advance": "Sim, avançar",
        "yes_rollback": "Sim, reverter",
        "say_why": "Diga o porquê",
        "guard": "em pelo menos 20 chamadas por estágio",
    },
    "en": {
        "advance": "Advance the rollout (gate figures first)",
        "rollback": "Roll back to 0% now (asks for a reason)",
        "question": "Advance the rollout?",
        "yes_advance": "Yes, advance",
        "yes_rollback": "Yes, roll back",
        "say_why": "Say why",
        "guard": "over at least 20 calls per stage",
    },
}


def _choose(page: Any, server: Server, action_label: str) -> None:
    page.goto(f"{server.url}/admin/cachemig/featureflag/")
    row = page.locator("#result_list tr", has_text=FLAG)
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", label=action_label)
    page.click("button[name=index]")


@pytest.mark.parametrize("language", ["pt-BR", "en"])
def test_an_admin_rolls_a_flag_out_and_back(page: Any, server: Server, language: str) -> None:
    words = TEXT[language]
    page.context.add_cookies([{"name": "django_language", "value": language.lower(), "url": server.url}])

    # From 0 % the first stage needs no gate; the next one needs traffic this demo has not had.
    for _ in range(2):
        _choose(page, server, words["advance"])
        assert words["question"] in page.inner_text("h1")
        page.screenshot(path=str(ARTIFACTS / f"flags-advance-{language}.png"), full_page=True)
        page.click(f"input[type=submit][value='{words['yes_advance']}']")
    messages = page.inner_text("ul.messagelist")
    assert "0 < 20" in messages  # refused, with the reason, and nothing changed
    page.screenshot(path=str(ARTIFACTS / f"flags-refused-{language}.png"), full_page=True)

    _choose(page, server, words["rollback"])
    page.fill("#id_reason", "   ")
    page.evaluate("document.querySelector('#id_reason').removeAttribute('required')")
    page.click(f"input[type=submit][value='{words['yes_rollback']}']")
    assert words["say_why"] in page.inner_text("#content")
    page.fill("#id_reason", "drill: back to the old client")
    page.click(f"input[type=submit][value='{words['yes_rollback']}']")
    assert "0%" in page.inner_text("ul.messagelist")
    page.screenshot(path=str(ARTIFACTS / f"flags-rolled-back-{language}.png"), full_page=True)

    page.locator("#result_list a", has_text=FLAG).click()
    assert words["guard"] in page.inner_text("#content")
    assert page.locator("a.deletelink").count() == 0
    page.screenshot(path=str(ARTIFACTS / f"flags-change-{language}.png"), full_page=True)
