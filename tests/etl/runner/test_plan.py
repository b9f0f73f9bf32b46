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
    assert plan.steps[0].argv[-6:] == ["--data-inicial", "2025-01-15", "--data-final", "2025-01-16", "--", "maps"]
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


def test_a_step_names_its_system_after_a_double_dash_and_the_pipeline_reads_it_as_a_value(
    make_system: Any, start_job: Any, no_enqueue: None
) -> None:
    make_system("maps")
    plan = job_plan_claim(start_job("maps").pk)
    assert plan is not None
    (step,) = plan.steps
    assert step.argv[-2:] == ["--", "maps"]

    # The bundled pipeline parses it so: "--" ends the options, "-x" after it would be a code, not an option.
    parsed = subprocess.run(
        [sys.executable, "-m", "etl.pipeline", "--data-inicial", "2025-01-15", "--", "-x"],
        env={**step.env, "ETL_CREDENTIALS": "{}"},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=step.env["PYTHONPATH"].split(":")[0],
    )
    assert "[ERROR] [-X] no credentials configured for this system" in parsed.stdout, parsed.stderr[-2000:]
