"""The v2 API (``/twsd/api/v2/...``) of the simulator."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from tws.simulator import render
from tws.simulator.responses import error_response, json_response, path_id, server_of

V2 = "/twsd/api/v2"
MAX_LIMIT = 10_000


def _int(request: web.Request, name: str, default: int) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise web.HTTPBadRequest(reason=f"query parameter {name} must be an integer") from None
    if value < 0:
        raise web.HTTPBadRequest(reason=f"query parameter {name} must not be negative")
    return value


def _page(request: web.Request, items: list[Any], render_item: Any, text_item: Any = None) -> web.Response:
    limit = min(_int(request, "limit", MAX_LIMIT), MAX_LIMIT)
    offset = _int(request, "offset", 0)
    chunk = items[offset : offset + limit]
    body: dict[str, Any] = {"results": [] if text_item else [render_item(i) for i in chunk]}
    if request.headers.get("Include-Count", "true").lower() != "false":
        body["count"] = len(items)
    base = str(request.url.with_query(None))
    params = {k: v for k, v in request.query.items() if k not in ("limit", "offset")}
    if limit and offset + limit < len(items):  # limit=0 is a count-only page: no `next` that repeats the request
        body["next"] = base + "?" + urlencode({**params, "limit": limit, "offset": offset + limit})
    if offset > 0 and limit:
        body["previous"] = base + "?" + urlencode({**params, "limit": limit, "offset": max(0, offset - limit)})
    if text_item is None:
        return json_response(body)
    # Splice pre-rendered job fragments into the envelope (large pages stay cheap to serve).
    del body["results"]
    head = json.dumps(body, separators=(",", ":"))[:-1] + ("," if body else "")
    text = head + '"results":[' + ",".join(text_item(i) for i in chunk) + "]}"
    return web.Response(text=text, content_type="application/json")


def _filtered_jobs(request: web.Request) -> list[Any]:
    sim = server_of(request)
    try:
        clauses, order = render.parse_oql(request.query.get("oql", ""))
    except render.OqlError as exc:
        raise web.HTTPBadRequest(reason=str(exc)) from None
    jobs = [j for j in sim.plan.jobs if render.job_matches(sim.plan, j, clauses)] if clauses else sim.plan.jobs
    if order is not None:
        field, descending = order
        jobs = sorted(jobs, key=lambda j: j.id if field == "id" else j.name, reverse=descending)
    return jobs


async def engine_info(request: web.Request) -> web.Response:
    return json_response(render.engine_v2(server_of(request).plan))


async def job_list(request: web.Request) -> web.Response:
    sim = server_of(request)
    try:
        jobs = _filtered_jobs(request)
    except web.HTTPBadRequest as exc:
        return error_response(400, f"AWSJQL001E {exc.reason}")
    return _page(request, jobs, None, lambda j: sim.job_json(j, "v2"))


async def job_count(request: web.Request) -> web.Response:
    sim = server_of(request)
    fields = [f.strip() for f in request.query.get("grouping_filters", "status").split(",") if f.strip()]
    unknown = [f for f in fields if f not in ("status", "workstation")]
    if unknown:
        return error_response(400, f"AWSJQL002E grouping field {unknown[0]!r} is not supported.")
    counts: Counter[str] = Counter()
    for job in sim.plan.jobs:
        parts = [
            sim.plan.state(job).common if f == "status" else sim.plan.workstations[job.workstation].name for f in fields
        ]
        counts[",".join(parts)] += 1
    return json_response({"count": len(sim.plan.jobs), "groupedCount": dict(counts)})


async def job_joblog(request: web.Request) -> web.StreamResponse:
    sim = server_of(request)
    try:
        clauses, _ = render.parse_oql(request.query.get("oql", ""))
    except render.OqlError as exc:
        return error_response(400, f"AWSJQL001E {exc}")
    ids = [v[0] for f, _, v in clauses if f == "id"]
    if not ids:
        return error_response(400, "AWSJQL003E The joblog query needs an id clause.")
    return web.Response(text=sim.plan.joblog(sim.job(ids[0], "v2")), content_type="text/plain", charset="utf-8")


async def job_get(request: web.Request) -> web.Response:
    sim = server_of(request)
    return json_response(render.job_v2(sim.plan, sim.job(path_id(request, "job_id"), "v2")))


async def job_action(request: web.Request) -> web.Response:
    sim = server_of(request)
    job = sim.job(path_id(request, "job_id"), "v2")
    action = request.match_info["action"]
    state = sim.plan.state(job)
    if action == "release" and state.common != "HELD":
        return error_response(409, f"AWSJPL720E The job {job.name} is not held.")
    if action == "kill" and state.common != "RUNNING":
        return error_response(409, f"AWSJPL722E The job {job.name} is not running.")
    getattr(sim.plan, action)(job)
    return json_response({"id": job.id, "url": f"{V2}/plan/job/{job.id}"})


def _run(request: web.Request) -> Any:
    sim = server_of(request)
    run_id = path_id(request, "run_id")
    for job in sim.plan.jobs:
        if run_id in job.run_ids:
            return job
    message = f"AWSJPL507E The job run {run_id} was not found."
    raise web.HTTPNotFound(text=json.dumps({"messages": [message]}), content_type="application/json")


async def run_joblog(request: web.Request) -> web.Response:
    return web.Response(text=server_of(request).plan.joblog(_run(request)), content_type="text/plain", charset="utf-8")


async def run_rerun(request: web.Request) -> web.Response:
    sim = server_of(request)
    job = _run(request)
    if sim.plan.state(job).common in ("RUNNING", "WAITING", "READY"):
        return error_response(409, f"AWSJPL725E The job {job.name} cannot be rerun in its current state.")
    new_run = sim.plan.rerun(job)
    return json_response({"id": new_run, "url": f"{V2}/plan/job/{job.id}"})


async def stream_list(request: web.Request) -> web.Response:
    sim = server_of(request)
    try:
        clauses, _ = render.parse_oql(request.query.get("oql", ""))
    except render.OqlError as exc:
        return error_response(400, f"AWSJQL001E {exc}")
    names = [(op, vs) for f, op, vs in clauses if f in ("name", "key.name")]
    streams = sim.plan.streams
    indexes = [i for i, s in enumerate(streams) if all(render.value_matches(op, vs, s.name) for op, vs in names)]
    return _page(request, indexes, lambda i: render.stream_v2(sim.plan, i, sim.jobs_of_stream(i)))


async def stream_get(request: web.Request) -> web.Response:
    sim = server_of(request)
    index = sim.plan.streams_by_id.get(path_id(request, "jobstream_id"))
    if index is None:
        return error_response(404, "AWSJPL508E The job stream was not found in the plan.")
    return json_response(render.stream_v2(sim.plan, index, sim.jobs_of_stream(index)))


async def workstation_list(request: web.Request) -> web.Response:
    sim = server_of(request)
    return _page(request, list(range(len(sim.plan.workstations))), lambda i: render.workstation_v2(sim.plan, i))


async def workstation_get(request: web.Request) -> web.Response:
    sim = server_of(request)
    index = sim.plan.ws_by_key.get(path_id(request, "workstation_id"))
    if index is None:
        return error_response(404, "AWSJPL509E The workstation was not found in the plan.")
    return json_response(render.workstation_v2(sim.plan, index))


def register(router: web.UrlDispatcher) -> None:
    """Add the v2 routes (fixed paths before templated ones)."""
    router.add_get(f"{V2}/engine/info", engine_info)
    router.add_get(f"{V2}/plan/job", job_list)
    router.add_get(f"{V2}/plan/job/count", job_count)
    router.add_get(f"{V2}/plan/job/joblog", job_joblog)
    router.add_get(f"{V2}/plan/job/run/{{run_id}}/joblog", run_joblog)
    router.add_put(f"{V2}/plan/job/run/{{run_id}}/action/rerun", run_rerun)
    router.add_get(f"{V2}/plan/job/{{job_id}}", job_get)
    router.add_put(f"{V2}/plan/job/{{job_id}}/action/{{action:hold|release|kill|cancel}}", job_action)
    router.add_get(f"{V2}/plan/jobstream", stream_list)
    router.add_get(f"{V2}/plan/jobstream/{{jobstream_id}}", stream_get)
    router.add_get(f"{V2}/plan/workstation", workstation_list)
    router.add_get(f"{V2}/plan/workstation/{{workstation_id}}", workstation_get)
