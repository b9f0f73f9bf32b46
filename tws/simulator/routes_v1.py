"""The v1 API (``/twsd/engine/info``, ``/twsd/plan/{planId}/...``) of the simulator."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tws.simulator import render
from tws.simulator.plan import SimJob
from tws.simulator.responses import error_response, json_response, path_id, server_of

if TYPE_CHECKING:
    from tws.simulator.server import SimulatorServer

V1 = "/twsd"
MAX_HOW_MANY = 10_000


def _header_int(request: web.Request, name: str, default: int) -> int:
    raw = request.headers.get(name, "")
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise web.HTTPBadRequest(reason=f"header {name} must be an integer") from None
    if value < 0:
        raise web.HTTPBadRequest(reason=f"header {name} must not be negative")
    return value


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except json.JSONDecodeError:
        raise web.HTTPBadRequest(reason="the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(reason="the body must be a QueryFilterPlan object")
    return body


def _slice(request: web.Request, items: list[Any]) -> tuple[list[Any], dict[str, str]]:
    """Apply ``How-Many`` (0 = all) or ``Query-PageSize``/``Query-PageNumber`` (page index)."""
    headers: dict[str, str] = {}
    if request.headers.get("Context-ObjectCount") == "1":
        headers["Context-ObjectCount"] = str(len(items))
    paged = "Query-PageSize" in request.headers or "Query-PageNumber" in request.headers
    if paged and "How-Many" in request.headers:  # mutually exclusive in the spec
        raise web.HTTPBadRequest(reason="header How-Many excludes Query-PageSize and Query-PageNumber")
    if paged:
        size = min(_header_int(request, "Query-PageSize", MAX_HOW_MANY), MAX_HOW_MANY) or MAX_HOW_MANY
        page = _header_int(request, "Query-PageNumber", 0)
        return items[page * size : (page + 1) * size], headers
    how_many = _header_int(request, "How-Many", MAX_HOW_MANY)
    return (items if how_many == 0 else items[: min(how_many, MAX_HOW_MANY)]), headers


def _job_filter(sim: SimulatorServer, body: dict[str, Any]) -> list[SimJob]:
    flt = (body.get("filters") or {}).get("jobInPlanFilter") or {}
    plan = sim.plan
    jobs = plan.jobs
    if flt.get("jobId"):
        job = plan.by_v1_id.get(str(flt["jobId"]))
        jobs = [job] if job else []
    name, ws, js = (str(flt.get(k) or "") for k in ("jobName", "workstationName", "jobStreamName"))
    statuses = set(flt.get("statusList") or ([flt["statusAsString"]] if flt.get("statusAsString") else []))
    if not (name or ws or js or statuses):
        return list(jobs)
    matches = render.name_matches
    return [
        j
        for j in jobs
        if matches(name, j.name)
        and matches(ws, plan.workstations[j.workstation].name)
        and matches(js, plan.streams[j.stream].name)
        and (not statuses or plan.state(j).common in statuses)
    ]


async def engine_info(request: web.Request) -> web.Response:
    return json_response(render.engine_v1(server_of(request).plan))


async def job_query(request: web.Request) -> web.Response:
    sim = server_of(request)
    sim.check_plan_id(path_id(request, "plan_id"))
    try:
        jobs, headers = _slice(request, _job_filter(sim, await _body(request)))
    except web.HTTPBadRequest as exc:
        return error_response(400, f"AWSJQL001E {exc.reason}")
    headers["Context-PlanId"] = sim.plan.plan_id
    text = "[" + ",".join(sim.job_json(j, "v1") for j in jobs) + "]"
    return web.Response(text=text, content_type="application/json", headers=headers)


async def stream_query(request: web.Request) -> web.Response:
    sim = server_of(request)
    sim.check_plan_id(path_id(request, "plan_id"))
    try:
        body = await _body(request)
        flt = (body.get("filters") or {}).get("jobStreamInPlanFilter") or {}
        name, ws = str(flt.get("jobStreamName") or ""), str(flt.get("workstationName") or "")
        plan = sim.plan
        matching = [
            i
            for i, s in enumerate(plan.streams)
            if render.name_matches(name, s.name) and render.name_matches(ws, plan.workstations[s.workstation].name)
        ]
        indexes, headers = _slice(request, matching)
    except web.HTTPBadRequest as exc:
        return error_response(400, f"AWSJQL001E {exc.reason}")
    return json_response([render.stream_v1(sim.plan, i, sim.jobs_of_stream(i)) for i in indexes], headers=headers)


async def job_get(request: web.Request) -> web.Response:
    sim = server_of(request)
    sim.check_plan_id(path_id(request, "plan_id"))
    return json_response(render.job_v1(sim.plan, sim.job(path_id(request, "job_id"), "v1")))


async def job_joblog(request: web.Request) -> web.Response:
    sim = server_of(request)
    sim.check_plan_id(path_id(request, "plan_id"))
    job = sim.job(path_id(request, "job_id"), "v1")
    text = sim.plan.joblog(job)
    return json_response(
        {
            "log": text,
            "lines": text.count("\n"),
            "pageNumber": 0,
            "lastPage": True,
            "jobId": job.v1_id,
            "fileId": job.run_ids[-1],
        }
    )


async def job_action(request: web.Request) -> web.Response:
    sim = server_of(request)
    sim.check_plan_id(path_id(request, "plan_id"))
    job = sim.job(path_id(request, "job_id"), "v1")
    action = request.match_info["action"]
    common = sim.plan.state(job).common
    if action == "release" and common != "HELD":
        return error_response(409, f"AWSJPL720E The job {job.name} is not held.")
    if action == "kill" and common != "RUNNING":
        return error_response(409, f"AWSJPL722E The job {job.name} is not running.")
    if action == "rerun":
        if common in ("RUNNING", "WAITING", "READY"):
            return error_response(409, f"AWSJPL725E The job {job.name} cannot be rerun in its current state.")
        sim.plan.rerun(job)
    else:
        getattr(sim.plan, action)(job)
    return web.Response(status=202, headers={"Context-PlanId": sim.plan.plan_id})


def register(router: web.UrlDispatcher) -> None:
    """Add the v1 routes."""
    router.add_get(f"{V1}/engine/info", engine_info)
    router.add_post(f"{V1}/plan/{{plan_id}}/job/query", job_query)
    router.add_post(f"{V1}/plan/{{plan_id}}/jobstream/query", stream_query)
    router.add_get(f"{V1}/plan/{{plan_id}}/job/{{job_id}}", job_get)
    router.add_get(f"{V1}/plan/{{plan_id}}/job/{{job_id}}/joblog", job_joblog)
    router.add_put(f"{V1}/plan/{{plan_id}}/job/{{job_id}}/action/{{action:hold|release|kill|cancel|rerun}}", job_action)
