"""HWA plan identifiers: the forms HWA uses (docs/tws-compat.md, "Identifiers") and how they travel in a URL.

Ids stay opaque: clients percent-encode them as one path segment and never look inside. The only
question asked of an id is which API issued it (:func:`api_of`); only the simulator builds one from
parts (:func:`v1_job_id`).
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import quote

# Object names (AWSBHW003E/004E/007E/008E/010E/011E): a letter, then letters, digits, '-' or '_';
# workstations and job streams up to 16 bytes, jobs up to 40.
WORKSTATION_NAME = r"[A-Za-z][A-Za-z0-9_-]{0,15}"
JOB_NAME = r"[A-Za-z][A-Za-z0-9_-]{0,39}"
# The job stream instance id the engine generates (16 alphanumeric characters).
JOBSTREAM_ID = r"[A-Za-z0-9]{16}"
# The v2 schemas' pattern for database identifiers, (\w{8}-)(\w{4}-){3}(\w{12}), with \w spelled in ASCII
# so that Python's and pydantic's regex engines read it alike.
UUID = r"[A-Za-z0-9_]{8}-[A-Za-z0-9_]{4}-[A-Za-z0-9_]{4}-[A-Za-z0-9_]{4}-[A-Za-z0-9_]{12}"
V1_JOB_ID = rf"{WORKSTATION_NAME};{JOBSTREAM_ID};{JOB_NAME}"
# What a job id in plan may be: the v2 UUID or the v1 WORKSTATION;JOBSTREAM_ID;JOBNAME.
JOB_ID = rf"^(?:{UUID}|{V1_JOB_ID})$"
JOB_ID_MAX_LENGTH = 16 + 1 + 16 + 1 + 40

_JOB_ID = re.compile(JOB_ID, re.ASCII)
_UUID = re.compile(UUID, re.ASCII)
_V1_JOB_ID = re.compile(V1_JOB_ID, re.ASCII)


def is_job_id(value: str) -> bool:
    """Return whether ``value`` has the shape of an HWA job id in plan."""
    return _JOB_ID.fullmatch(value) is not None


def api_of(job_id: str) -> Literal["v1", "v2"] | None:
    """Return the API whose form ``job_id`` has (the only one that can answer for it), or None."""
    if _UUID.fullmatch(job_id):
        return "v2"
    if _V1_JOB_ID.fullmatch(job_id):
        return "v1"
    return None


def v1_job_id(workstation: str, jobstream_id: str, job_name: str) -> str:
    """Return the v1 job id ``WORKSTATION;JOBSTREAM_ID;JOBNAME`` of a job stream instance's job."""
    return f"{workstation};{jobstream_id};{job_name}"


def path_segment(value: str) -> str:
    """Return ``value`` percent-encoded as exactly one URL path segment.

    Nothing is left unencoded but RFC 3986's unreserved characters, so '/', ';', '#', '?' and '%'
    cannot end the segment; '.' and '..' are encoded too, or they would be read as dot-segments.
    """
    if not value:
        raise ValueError("an HWA identifier is never empty")
    quoted = quote(value, safe="")
    return quoted.replace(".", "%2E") if quoted in (".", "..") else quoted
