"""Render simulated plan objects in the shapes of the HWA v2 and v1 schemas."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from tws.simulator.plan import V1_INTERNAL, SimJob, SimPlan

ENGINE_VERSION = "10.2.8.0"


def iso(value: datetime | None) -> str | None:
    """Return an ISO 8601 UTC instant ``2026-01-01T10:00:00Z``."""
    return None if value is None else value.isoformat(timespec="seconds").replace("+00:00", "Z")


def engine_v2(plan: SimPlan) -> dict[str, Any]:
    """Return ``EngineInfoV2``."""
    return {
        "fullVersion": ENGINE_VERSION,
        "displayVersion": "10.2.8",
        "timezone": "America/Sao_Paulo",
        "locale": "en",
        "licenseType": "PERJOB",
        "referenceId": plan.plan_id,
        "capabilities": {"plan": {"jobCount": str(len(plan.jobs))}},
    }


def engine_v1(plan: SimPlan) -> dict[str, Any]:
    """Return v1 ``EngineInfo``."""
    return {
        "fullVersion": ENGINE_VERSION,
        "displayVersion": "10.2.8",
        "version": "10.2.8",
        "timezone": "America/Sao_Paulo",
        "locale": "en",
        "type": "distributed",
        "engineType": "distributed",
        "hasPlan": True,
        "hasModel": True,
        "apiLevel": 2,
        "masterWorkstation": plan.workstations[0].name,
        "synphonyPlanStart": iso(plan.epoch),
    }


def job_v2(plan: SimPlan, job: SimJob) -> dict[str, Any]:
    """Return ``JobInPlanV2`` with its last run."""
    st = plan.state(job)
    ws = plan.workstations[job.workstation]
    js = plan.streams[job.stream]
    run: dict[str, Any] = {
        "id": job.run_ids[-1],
        "jobId": job.id,
        "name": job.name,
        "jobNumber": job.run_number,
        "runAttempt": job.run_number,
        "rerunJob": job.run_number > 1,
        "commonStatus": st.common,
        "compositeStatus": {
            "status": st.internal,
            "error": st.common == "ERROR",
            "started": st.started is not None,
            "canceled": st.common == "CANCELED",
        },
        "actualWorkstation": ws.name,
        "timeInfo": {"estimatedDuration": f"PT{int(job.duration)}S"},
    }
    if st.started is not None:
        run["timeInfo"]["actualStartTime"] = iso(st.started)
    if st.ended is not None:
        run["timeInfo"]["actualEndTime"] = iso(st.ended)
    if st.return_code is not None:
        run["returnCode"] = st.return_code
    return {
        "id": job.id,
        "name": job.name,
        "key": f"{ws.name}#{js.name}.{job.name}",
        "flowNodeType": "JOB",
        "planId": plan.plan_id,
        "jobStreamId": js.id,
        "jobStreamName": js.name,
        "jobStreamWorkstation": plan.workstations[js.workstation].name,
        "jobStreamWorkstationId": plan.workstations[js.workstation].id,
        "workstation": ws.name,
        "workstationId": ws.id,
        "schedTime": iso(plan.at(js.sched_offset)),
        "priority": 10,
        "lastRunCommonStatus": st.common,
        "lastRunCompositeStatus": run["compositeStatus"],
        "jobruns": [run],
        **({"criticalStart": iso(plan.at(job.critical_start))} if job.critical_start is not None else {}),
    }


def job_v1(plan: SimPlan, job: SimJob) -> dict[str, Any]:
    """Return v1 ``JobInPlan``."""
    st = plan.state(job)
    ws = plan.workstations[job.workstation]
    js = plan.streams[job.stream]
    time_info: dict[str, Any] = {"estimatedDuration": int(job.duration * 1000)}
    if st.started is not None:
        time_info["actualStartTime"] = iso(st.started)
    if st.ended is not None:
        time_info["actualEndTime"] = iso(st.ended)
        time_info["elapsedTime"] = int(job.duration * 1000)
    definition: dict[str, Any] = {
        "jobDefinitionInPlanKey": {"name": job.name, "workstationInPlanKey": {"name": ws.name}}
    }
    if st.return_code is not None:
        definition["returnCode"] = st.return_code
    jws = plan.workstations[js.workstation].name
    return {
        "id": job.v1_id,
        "name": job.name,
        "actualKey": f"{jws}#{js.name}.{job.name}",
        "planId": plan.plan_id,
        "jobStreamId": js.jsid,
        "jobRunId": job.run_ids[-1],
        "jobNumber": job.run_number,
        "rerunInstancesNumber": job.run_number - 1,
        "workstationInPlan": {"name": ws.name, "symId": ws.id},
        "jobStreamInPlan": {
            "id": js.jsid,
            "name": js.name,
            "startTime": iso(plan.at(js.sched_offset)),
            "workstationKey": {"name": jws},
        },
        "status": {
            "commonStatus": st.common,
            "internalStatus": V1_INTERNAL.get(st.internal, st.internal),
            "canceled": st.common == "CANCELED",
        },
        "timeInfo": time_info,
        "jobDefinition": definition,
        "running": st.common == "RUNNING",
        "heldByUser": job.id in plan.held,
        **({"criticalNetworkInfo": _critical_v1(plan, job)} if job.critical_start is not None else {}),
    }


def _critical_v1(plan: SimPlan, job: SimJob) -> dict[str, Any]:
    return {"critical": True, "criticalStart": iso(plan.at(job.critical_start or 0.0))}


def workstation_v2(plan: SimPlan, index: int) -> dict[str, Any]:
    """Return ``WorkstationInPlanV2``."""
    ws = plan.workstations[index]
    states = ["LINKED", "RUNNING", "JOBMAN_UP"] if plan.is_linked(index) else ["RUNNING"]
    return {
        "id": ws.id,
        "name": ws.name,
        "key": ws.name,
        "type": ws.type,
        "os": "LINUX" if ws.type != "FTA" else "UNIX",
        "planId": plan.plan_id,
        "activeStates": states,
        "activeFlags": ["AUTO_LINK"],
        "hostType": "WORKSTATION",
        "nodeName": f"{ws.name.lower()}.example.internal",
        "tcpPort": 31114,
        "limit": ws.limit,
        "fence": ws.fence,
    }


def stream_status(plan: SimPlan, index: int, jobs: list[SimJob]) -> tuple[str, str]:
    """Return the (common, internal) status of a job stream from its jobs."""
    commons = {plan.state(j).common for j in jobs}
    for common, internal in (("ERROR", "ABEND"), ("RUNNING", "EXEC"), ("HELD", "HOLD"), ("READY", "READY")):
        if common in commons:
            return common, internal
    if commons <= {"SUCCESSFUL", "CANCELED"} and commons:
        return "SUCCESSFUL", "SUCC"
    return "WAITING", "HOLD"


def stream_v2(plan: SimPlan, index: int, jobs: list[SimJob]) -> dict[str, Any]:
    """Return ``JobStreamInPlanV2``."""
    js = plan.streams[index]
    common, internal = stream_status(plan, index, jobs)
    ws = plan.workstations[js.workstation]
    return {
        "id": js.id,
        "name": js.name,
        "originalJobStreamName": js.name,
        "key": f"{ws.name}#{js.name}",
        "flowNodeType": "JOBSTREAM",
        "planId": plan.plan_id,
        "workstation": ws.name,
        "workstationId": ws.id,
        "schedTime": iso(plan.at(js.sched_offset)),
        "commonStatus": common,
        "compositeStatus": {"status": internal, "error": common == "ERROR", "started": common != "WAITING"},
        "priority": 10,
    }


def stream_v1(plan: SimPlan, index: int, jobs: list[SimJob]) -> dict[str, Any]:
    """Return v1 ``JobStreamInPlan``."""
    js = plan.streams[index]
    common, internal = stream_status(plan, index, jobs)
    ws = plan.workstations[js.workstation]
    return {
        "id": js.jsid,
        "key": {"name": js.name, "startTime": iso(plan.at(js.sched_offset)), "workstationKey": {"name": ws.name}},
        "actualKey": f"{ws.name}#{js.jsid}",
        "originalJobStreamName": js.name,
        "workstation": {"name": ws.name, "symId": ws.id},
        "planId": plan.plan_id,
        "status": {"commonStatus": common, "internalStatus": internal},
        "priority": 10,
    }


# --- fast text rendering of jobs (large pages) -------------------------------
# Generated names and ids are [A-Za-z0-9_#.;-] only, so they are embedded without escaping;
# tests check that json.loads(text) equals the dict rendering above.
_static_v2: dict[str, str] = {}
_static_v1: dict[str, str] = {}


def _b(value: bool) -> str:
    return "true" if value else "false"


def job_v2_text(plan: SimPlan, job: SimJob) -> str:
    """Return ``job_v2`` as JSON text, the job's static part rendered once."""
    prefix = _static_v2.get(job.id)
    ws = plan.workstations[job.workstation]
    if prefix is None:
        js = plan.streams[job.stream]
        jws = plan.workstations[js.workstation]
        prefix = (
            f'{{"id":"{job.id}","name":"{job.name}","key":"{ws.name}#{js.name}.{job.name}","flowNodeType":"JOB",'
            f'"planId":"{plan.plan_id}","jobStreamId":"{js.id}","jobStreamName":"{js.name}",'
            f'"jobStreamWorkstation":"{jws.name}","jobStreamWorkstationId":"{jws.id}","workstation":"{ws.name}",'
            f'"workstationId":"{ws.id}","schedTime":"{iso(plan.at(js.sched_offset))}","priority":10,'
        )
        if job.critical_start is not None:
            prefix += f'"criticalStart":"{iso(plan.at(job.critical_start))}",'

        _static_v2[job.id] = prefix
    st = plan.state(job)
    composite = (
        f'{{"status":"{st.internal}","error":{_b(st.common == "ERROR")},"started":{_b(st.started is not None)},'
        f'"canceled":{_b(st.common == "CANCELED")}}}'
    )
    times = f'"estimatedDuration":"PT{int(job.duration)}S"'
    if st.started is not None:
        times += f',"actualStartTime":"{iso(st.started)}"'
    if st.ended is not None:
        times += f',"actualEndTime":"{iso(st.ended)}"'
    rc = f',"returnCode":{st.return_code}' if st.return_code is not None else ""
    run = (
        f'{{"id":"{job.run_ids[-1]}","jobId":"{job.id}","name":"{job.name}","jobNumber":{job.run_number},'
        f'"runAttempt":{job.run_number},"rerunJob":{_b(job.run_number > 1)},"commonStatus":"{st.common}",'
        f'"compositeStatus":{composite},"actualWorkstation":"{ws.name}","timeInfo":{{{times}}}{rc}}}'
    )
    return f'{prefix}"lastRunCommonStatus":"{st.common}","lastRunCompositeStatus":{composite},"jobruns":[{run}]}}'


def job_v1_text(plan: SimPlan, job: SimJob) -> str:
    """Return ``job_v1`` as JSON text, the job's static part rendered once."""
    prefix = _static_v1.get(job.id)
    ws = plan.workstations[job.workstation]
    if prefix is None:
        js = plan.streams[job.stream]
        jws = plan.workstations[js.workstation].name
        prefix = (
            f'{{"id":"{job.v1_id}","name":"{job.name}","actualKey":"{jws}#{js.name}.{job.name}",'
            f'"planId":"{plan.plan_id}","jobStreamId":"{js.jsid}",'
            f'"workstationInPlan":{{"name":"{ws.name}","symId":"{ws.id}"}},"jobStreamInPlan":{{"id":"{js.jsid}",'
            f'"name":"{js.name}","startTime":"{iso(plan.at(js.sched_offset))}",'
            f'"workstationKey":{{"name":"{jws}"}}}},'
        )
        if job.critical_start is not None:
            prefix += f'"criticalNetworkInfo":{json.dumps(_critical_v1(plan, job), separators=(",", ":"))},'

        _static_v1[job.id] = prefix
    st = plan.state(job)
    internal = V1_INTERNAL.get(st.internal, st.internal)
    times = f'"estimatedDuration":{int(job.duration * 1000)}'
    if st.started is not None:
        times += f',"actualStartTime":"{iso(st.started)}"'
    if st.ended is not None:
        times += f',"actualEndTime":"{iso(st.ended)}","elapsedTime":{int(job.duration * 1000)}'
    rc = f',"returnCode":{st.return_code}' if st.return_code is not None else ""
    return (
        f'{prefix}"jobRunId":"{job.run_ids[-1]}","jobNumber":{job.run_number},'
        f'"rerunInstancesNumber":{job.run_number - 1},"status":{{"commonStatus":"{st.common}",'
        f'"internalStatus":"{internal}","canceled":{_b(st.common == "CANCELED")}}},"timeInfo":{{{times}}},'
        f'"jobDefinition":{{"jobDefinitionInPlanKey":{{"name":"{job.name}","workstationInPlanKey":{{"name":"{ws.name}"}}}}{rc}}},'
        f'"running":{_b(st.common == "RUNNING")},"heldByUser":{_b(job.id in plan.held)}}}'
    )


# --- OQL (the subset the adapter sends) --------------------------------------
_CLAUSE = re.compile(r"^\s*([\w.]+)\s*(=|LIKE|IN)\s*(.+?)\s*$", re.IGNORECASE)
OQL_FIELDS = {
    "name",
    "id",
    "status",
    "lastruncommonstatus",
    "jobruns.compositestatus.status",
    "workstation",
    "jobstreamname",
    "key.name",
}


class OqlError(ValueError):
    """The OQL expression is not understood."""


def parse_oql(text: str) -> tuple[list[tuple[str, str, list[str]]], tuple[str, bool] | None]:
    """Return ``([(field, op, values)], (order field, descending) | None)`` of an OQL expression."""
    order: tuple[str, bool] | None = None
    body = text.strip()
    match = re.search(r"\s*ORDER BY\s+([\w.]+)(\s+(ASC|DESC))?\s*$", body, re.IGNORECASE)
    if match:
        order = (match.group(1).lower(), (match.group(3) or "").upper() == "DESC")
        body = body[: match.start()]
    clauses: list[tuple[str, str, list[str]]] = []
    if not body.strip():
        return clauses, order
    for part in re.split(r"\s+AND\s+", body, flags=re.IGNORECASE):
        m = _CLAUSE.match(part)
        if not m or m.group(1).lower() not in OQL_FIELDS:
            raise OqlError(f"unsupported OQL clause: {part.strip()!r}")
        field, op, raw = m.group(1).lower(), m.group(2).upper(), m.group(3)
        values = re.findall(r"'((?:[^']|'')*)'", raw)
        if not values:
            raise OqlError(f"OQL value must be quoted: {part.strip()!r}")
        clauses.append((field, op, [v.replace("''", "'") for v in values]))
    return clauses, order


def _like(pattern: str) -> re.Pattern[str]:
    # HWA's name wildcards: `*` (REST filters, Zowe CLI), `@` (conman, v1 queries); `%` kept as before.
    parts = re.split(r"[*@%]", pattern)
    return re.compile("^" + ".*".join(re.escape(p) for p in parts) + "$", re.IGNORECASE | re.DOTALL)


def name_matches(pattern: str, name: str) -> bool:
    """Return whether ``name`` matches a filter value of HWA (wildcards allowed; empty matches all)."""
    return not pattern or _like(pattern).match(name) is not None


def job_matches(plan: SimPlan, job: SimJob, clauses: list[tuple[str, str, list[str]]]) -> bool:
    """Return whether ``job`` satisfies every clause."""
    for field, op, values in clauses:
        if field in ("name", "key.name"):
            actual = job.name
        elif field == "id":
            actual = job.id
        elif field in ("status", "lastruncommonstatus"):
            actual = plan.state(job).common
        elif field == "jobruns.compositestatus.status":
            actual = plan.state(job).internal
        elif field == "workstation":
            actual = plan.workstations[job.workstation].name
        else:
            actual = plan.streams[job.stream].name
        if not value_matches(op, values, actual):
            return False
    return True


def value_matches(op: str, values: list[str], actual: str) -> bool:
    """Return whether ``actual`` satisfies one OQL comparison (LIKE takes HWA's wildcards)."""
    return name_matches(values[0], actual) if op == "LIKE" else actual in values
