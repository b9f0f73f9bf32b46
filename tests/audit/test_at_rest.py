"""The raw database file never holds a payload in plaintext."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sqlite_files import stored_bytes

ROOT = Path(__file__).resolve().parents[2]
MARKER = "PLAINTEXT-MARKER-7f3a9c"
SCRIPT = f"""
import django
django.setup()
import audit
from audit.testing import recorded_entries
for n in range(50):
    audit.record("credential.update", actor="admin", target="credential:%d" % n, data={{"note": "{MARKER}"}})
assert all(e["data"]["note"] == "{MARKER}" for e in recorded_entries())
print("ok")
"""


@pytest.mark.slow
def test_raw_sqlite_file_has_no_payload_plaintext(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'resync.sqlite3'}",
        "RESYNC_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "resync_site.settings",
    }
    env.pop("AUDIT_KEYRING", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    assert done.stdout.strip() == "ok"

    raw = stored_bytes(tmp_path / "resync.sqlite3")
    assert b"credential:7" in raw  # the rows are there (metadata is not secret) ...
    assert MARKER.encode() not in raw  # ... their payloads are not readable
