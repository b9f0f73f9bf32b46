"""The step plan: what each child process is started with."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from etl.runner.plan import job_plan_claim

pytestmark = pytest.mark.django_db(transaction=True)


def test_claiming_plans_every_step_in_order_and_leaves_a_claimed_job_alone(
    make_system: Any, start_job: Any, no_enqueue: None
) -> None:
    make_system("maps", script="print(1)")
    make_system("fidc", script="print(2)")
    job = start_job("maps", "fidc", options={"data_inicial": "2025-01-15", "data_final": "2025-01-16"})
    plan = job_plan_claim(job.pk)
    assert plan is not None
    assert (plan.job_id, plan.next_seq) == (job.pk, 1)
    assert [step.system for step in plan.steps] == ["maps", "fidc"]
    assert plan.steps[0].argv[-4:] == ["--data-inicial", "2025-01-15", "--data-final", "2025-01-16"]
    assert "s3cret" not in repr(plan)  # the environment carries the password; the plan's repr never shows it
    assert job_plan_claim(job.pk) is None


def test_a_step_that_cannot_be_planned_leaves_the_job_pending(
    make_system: Any, start_job: Any, no_enqueue: None
) -> None:
    # Claim and plan share one transaction: a password sealed for another system does not decrypt here.
    from core.keyring import KeyRingError
    from etl.models import Credential

    make_system("maps", script="print(1)")
    make_system("fidc", script="print(2)")
    job = start_job("maps")
    foreign = Credential.objects.get(system__code="fidc").password_sealed
    Credential.objects.filter(system__code="maps").update(password_sealed=foreign)
    with pytest.raises(KeyRingError, match="does not decrypt"):
        job_plan_claim(job.pk)
    job.refresh_from_db()
    assert (job.status, job.started_at) == ("pending", None)
    assert list(job.steps.values_list("status", flat=True)) == ["pending"]


def test_the_bundled_pipeline_child_gets_the_light_setup_and_a_custom_command_does_not(
    make_system: Any, start_job: Any, no_enqueue: None
) -> None:
    make_system("maps")  # the bundled pipeline
    make_system("fidc", script="print('[INFO] [FIDC] custom')")
    plan = job_plan_claim(start_job("maps", "fidc").pk)
    assert plan is not None
    bundled, custom = plan.steps
    assert bundled.env["RESYNC_PROCESS_ROLE"] == "pipeline"
    assert bundled.env["DATABASE_POOL"] == "false"
    assert "RESYNC_PROCESS_ROLE" not in custom.env

    # What the child's django.setup() loads with that environment: the apps etl's models need.
    apps = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.apps import apps; "
            "print(','.join(sorted(a.label for a in apps.get_app_configs())))",
        ],
        env=bundled.env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=bundled.env["PYTHONPATH"].split(":")[0],
    )
    assert apps.returncode == 0, apps.stderr[-2000:]
    assert apps.stdout.strip().splitlines()[-1] == "audit,auth,contenttypes,etl"
