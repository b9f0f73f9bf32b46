"""The pt-BR catalogue is complete: no untranslated or fuzzy entry, and the committed .mo files match the .po."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

CATALOGUE = Path(settings.LOCALE_PATHS[0]) / "pt_BR" / "LC_MESSAGES"


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_every_message_is_translated_and_none_is_fuzzy(domain: str, tmp_path: Path) -> None:
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "msgfmt (gettext) is needed to check the catalogue: apt-get install -y gettext"
    compiled = tmp_path / f"{domain}.mo"
    done = subprocess.run(
        [msgfmt, "--check", "--statistics", "-o", str(compiled), str(CATALOGUE / f"{domain}.po")],
        capture_output=True,
        text=True,
        check=True,
    )
    stats = done.stderr
    assert "fuzzy" not in stats, stats
    assert "untranslated" not in stats, stats
    # The .mo the server loads is the one compiled from this .po (run compilemessages after editing it).
    assert compiled.read_bytes() == (CATALOGUE / f"{domain}.mo").read_bytes()


def test_the_server_speaks_portuguese_by_default_and_english_on_request() -> None:
    from django.utils import translation

    with translation.override("pt-br"):
        assert translation.gettext("Start a run") == "Iniciar execução"
    with translation.override("en"):
        assert translation.gettext("Start a run") == "Start a run"
