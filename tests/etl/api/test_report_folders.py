"""Report folders: under ETL_REPORT_ROOTS, normalised, nothing created by the web; the worker creates them on use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from etl.models import PathConfig

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def roots(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "srv" / "resync"
    root.mkdir(parents=True)
    settings.ETL_REPORT_ROOTS = [str(root)]
    return root


def _put(client: Any, path: Any, kind: str = "csv") -> Any:
    return client.put(f"/api/paths/{kind}", data=json.dumps({"path": path}), content_type="application/json")


def _tree(top: Path) -> set[str]:
    return {str(p.relative_to(top)) for p in top.rglob("*")}


@pytest.mark.parametrize(
    "path",
    [
        "/etc",
        "/",
        "/root",
        "/sys/kernel",
        "{root}/../../etc",
        "{root}/csv/../../x",
        "../csv",
        "{root}/csv\nother",
        "{root}/\u202ecsv",  # right-to-left override
        "{root}/csv\u200b",  # zero-width space
        "{root}/" + "d/" * 2500,  # 5 kB
        "relative/csv",
        "",
    ],
)
def test_a_bad_folder_is_refused_with_422_naming_path_and_nothing_is_created(
    admin_client_: Any, roots: Path, tmp_path: Path, path: str
) -> None:
    before = _tree(tmp_path)
    response = _put(admin_client_, path.replace("{root}", str(roots)))
    assert response.status_code == 422, response.content
    assert response.json()["detail"].startswith("path: "), response.json()
    assert _tree(tmp_path) == before
    assert not PathConfig.objects.exists()


def test_a_folder_under_a_root_is_stored_normalised_and_not_created_by_the_web(admin_client_: Any, roots: Path) -> None:
    response = _put(admin_client_, f"{roots}//reports/./csv/")
    assert response.status_code == 200, response.content
    assert response.json() == {"kind": "csv", "path": f"{roots}/reports/csv"}
    assert not (roots / "reports").exists()


def test_the_worker_creates_the_folder_on_first_use_and_the_step_writes_there(
    admin_client_: Any, roots: Path, make_system: Any, start_job: Any, no_enqueue: None
) -> None:
    from etl.runner.job import run_job

    assert _put(admin_client_, f"{roots}/csv").status_code == 200
    make_system("maps", script="import json, os; print('[INFO] [MAPS] paths', json.loads(os.environ['ETL_PATHS']))")
    job = start_job("maps")

    assert run_job(job.pk) == "success"
    assert (roots / "csv").is_dir()


def test_a_folder_that_leads_out_of_the_roots_fails_the_step_with_a_clear_message(
    admin_client_: Any, roots: Path, tmp_path: Path, make_system: Any, start_job: Any, no_enqueue: None
) -> None:
    from etl.runner.job import run_job

    outside = tmp_path / "outside"
    outside.mkdir()
    (roots / "link").symlink_to(outside)  # made on the host after the folder was accepted
    assert _put(admin_client_, f"{roots}/link/csv").status_code == 200
    make_system("maps", script="print('[INFO] [MAPS] must not run')")
    job = start_job("maps")

    assert run_job(job.pk) == "error"
    job.refresh_from_db()
    assert "report folder csv" in job.error_summary
    assert "leads out of the report roots" in job.error_summary
    assert "must not run" not in "\n".join(job.log_lines.values_list("message", flat=True))
    assert list(outside.iterdir()) == []  # nothing was created through the link
