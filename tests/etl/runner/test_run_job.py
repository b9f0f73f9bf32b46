"""The runner: output persisted in order, protocol parsed, oversized and non-UTF-8 lines kept, failures summarised."""

from __future__ import annotations

from typing import Any

import pytest

from etl.models import Job, LogLine
from etl.runner.job import run_job

pytestmark = pytest.mark.django_db(transaction=True)


def _lines(job: Job) -> list[LogLine]:
    return list(LogLine.objects.filter(job=job).order_by("seq"))


def test_every_line_is_persisted_in_order_with_levels_and_systems(
    make_system: Any, start_job: Any, no_enqueue: None
) -> None:
    make_system(
        "maps",
        script="""
        import sys
        for i in range(250):
            print(f"[INFO] [MAPS] line {i}")
        print("[WARNING] [MAPS] almost done")
        print("plain output", file=sys.stderr)
        print("[PROGRESS] [MAPS] 50 halfway")
        """,
    )
    job = start_job("maps")
    assert run_job(job.pk) == "success"
    job.refresh_from_db()
    lines = _lines(job)
    assert [line.seq for line in lines] == list(range(1, 253))  # the [PROGRESS] marker is not a log line
    assert not any("PROGRESS" in line.message or "halfway" in line.message for line in lines)
    assert [line.message for line in lines[:250]] == [f"line {i}" for i in range(250)]
    assert {(line.level, line.system) for line in lines[250:252]} == {("WARNING", "maps"), ("INFO", "maps")}
    assert job.status == "success"
    assert job.exit_code == 0
    assert job.duration_seconds is not None
    step = job.steps.get()
    assert step.status == "success"
    assert step.line_count == 252
    assert step.progress == 100


def test_a_1mb_line_and_non_utf8_bytes_are_stored_not_fatal(make_system: Any, start_job: Any, no_enqueue: None) -> None:
    make_system(
        "maps",
        script="""
        import sys
        sys.stdout.buffer.write(b"x" * (1024 * 1024) + b"\\n")
        sys.stdout.buffer.write(b"caf\\xe9 \\xff\\xfe bytes\\n")
        sys.stdout.buffer.flush()
        print("[INFO] [MAPS] still alive")
        """,
    )
    job = start_job("maps")
    assert run_job(job.pk) == "success"
    big, garbled, last = _lines(job)
    assert big.message.startswith("x" * 65536)
    assert "line cut: 1048576 bytes" in big.message
    assert len(big.message) < 70_000
    assert garbled.message == "caf\ufffd \ufffd\ufffd bytes"
    assert last.message == "still alive"


def test_non_zero_exit_fails_with_the_last_error_lines(make_system: Any, start_job: Any, no_enqueue: None) -> None:
    make_system(
        "maps",
        script="""
        import sys
        print("[INFO] [MAPS] working")
        print("[ERROR] [MAPS] report server refused the login")
        sys.exit(3)
        """,
    )
    job = start_job("maps")
    assert run_job(job.pk) == "error"
    job.refresh_from_db()
    assert job.exit_code == 3
    assert "report server refused the login" in job.error_summary


def test_a_step_over_its_timeout_fails_as_timeout(
    make_system: Any, start_job: Any, no_enqueue: None, settings: Any
) -> None:
    settings.ETL_STEP_TIMEOUT_SECONDS = {"*": 1}
    settings.ETL_CANCEL_GRACE_SECONDS = 0.5
    make_system("maps", script="import time; print('[INFO] [MAPS] sleeping'); time.sleep(60)")
    job = start_job("maps")
    assert run_job(job.pk) == "error"
    job.refresh_from_db()
    assert job.error_summary.startswith("timeout")


def test_credentials_reach_the_child_through_its_environment_not_argv(
    make_system: Any, start_job: Any, no_enqueue: None
) -> None:
    make_system(
        "maps",
        script="""
        import json, os, sys
        creds = json.loads(os.environ["ETL_CREDENTIALS"])["maps"]["_"]
        print("[INFO] [MAPS] argv has password:", any(creds["password"] in a for a in sys.argv))
        print("[INFO] [MAPS] user", creds["username"], "unbuffered", os.environ["PYTHONUNBUFFERED"])
        print("[INFO] [MAPS] echo", creds["password"])
        """,
    )
    job = start_job("maps")
    assert run_job(job.pk) == "success"
    messages = [line.message for line in _lines(job)]
    assert messages[0] == "argv has password: False"
    assert messages[1] == "user maps-user unbuffered 1"
    assert "s3cret" not in messages[2]  # a child echoing the secret is masked before storage


def test_a_pipeline_stops_at_the_first_failed_system(make_system: Any, start_job: Any, no_enqueue: None) -> None:
    make_system("maps", script="import sys; sys.exit(1)")
    make_system("fidc", script="print('never')")
    job = start_job("maps", "fidc")
    assert run_job(job.pk) == "error"
    statuses = list(job.steps.order_by("order").values_list("status", flat=True))
    assert statuses == ["error", "cancelled"]


def test_a_job_no_longer_pending_is_not_run_twice(make_system: Any, start_job: Any, no_enqueue: None) -> None:
    make_system("maps", script="print('once')")
    job = start_job("maps")
    assert run_job(job.pk) == "success"
    assert run_job(job.pk) == "skipped"
    assert LogLine.objects.filter(job=job).count() == 1


def test_steps_run_at_a_lower_priority_than_the_worker_and_their_children_too(
    make_system: Any, start_job: Any, no_enqueue: None, settings: Any
) -> None:
    import os

    settings.ETL_CHILD_NICE = 7
    make_system(
        "maps",
        script="""
        import os, subprocess, sys
        print(f"[INFO] [MAPS] step niceness {os.nice(0)}")
        child = subprocess.run([sys.executable, "-c", "import os; print(os.nice(0))"], capture_output=True, text=True)
        print(f"[INFO] [MAPS] child niceness {child.stdout.strip()}")
        print(f"[INFO] [MAPS] session {os.getsid(0)} group {os.getpgid(0)} pid {os.getpid()}")
        """,
    )
    job = start_job("maps")
    assert run_job(job.pk) == "success"
    expected = min(19, os.nice(0) + 7)
    messages = [line.message for line in _lines(job)]
    assert f"step niceness {expected}" in messages
    assert f"child niceness {expected}" in messages
    # The worker's session (so the niceness weighs against the web under autogroup scheduling), and a
    # process group of its own, led by its guard (so cancelling signals its whole tree and nothing else).
    session, group, pid = next(m for m in messages if m.startswith("session ")).split()[1::2]
    assert int(session) == os.getsid(0)
    assert int(group) == job.steps.get().pgid != os.getpgid(0)
    assert int(pid) != int(group)


@pytest.mark.parametrize("value", [-1, 20, "10", 2.5])
def test_an_unusable_child_niceness_is_refused_at_start_up(settings: Any, value: Any) -> None:
    from etl.conf import check_settings

    settings.ETL_CHILD_NICE = value
    problems = [p for p in check_settings() if p.id == "etl.E003"]
    assert len(problems) == 1
    assert "ETL_CHILD_NICE must be a whole number from 0 to 19" in problems[0].msg
