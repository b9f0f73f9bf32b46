"""Typed request and response shapes of the etl API (field names kept from the React frontend)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import ConfigDict, StrictBool

from core.fields import DbId, DbInt, MaxChars, SafeStr, column_max
from core.schemas import Out, Page, PageIn
from etl.models import Fund, Job, PathConfig, System

# Every string the etl API takes, body, query or path: no control character, at most its column's length.
SystemRef = Annotated[SafeStr, column_max(System, "code")]  # a system's code or its numeric id
SystemCode = Annotated[SafeStr, column_max(System, "code")]
FundCode = Annotated[SafeStr, column_max(Fund, "code")]
DateText = Annotated[SafeStr, MaxChars(10)]  # YYYY-MM-DD; range and future checked by the service
PathKind = Annotated[SafeStr, column_max(PathConfig, "kind")]


class Strict(Schema):
    """Request body that refuses unknown fields."""

    model_config = ConfigDict(extra="forbid")


class SystemOut(Schema):
    id: int
    code: str
    nome: str = Field(..., alias="name")
    ativo: bool = Field(..., alias="active")
    opcoes: dict[str, Any] = Field(..., alias="options")
    base_url: str


class OptionIn(Strict):
    opcao: Annotated[SafeStr, MaxChars(60)]
    valor: Any  # checked against the option's spec (etl.catalog): a bool, a bounded int or one of its choices


class ExecuteIn(Strict):
    sistemas: list[SystemCode] = Field(..., max_length=100)
    data_inicial: DateText
    data_final: DateText | None = None


class ExecuteOneIn(Strict):
    data_inicial: DateText
    data_final: DateText | None = None


class StepOut(Out):
    id: int
    sistema: str
    sistema_id: str
    ordem: int
    status: str
    progresso: int
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    duracao_segundos: float | None
    exit_code: int | None
    error_summary: str
    linhas: int


class JobOut(Out):
    id: int
    kind: str
    sistemas: list[str]
    opcoes: dict[str, Any]
    status: str
    progresso: int
    trace_id: str
    created_by: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    duracao_segundos: float | None
    exit_code: int | None
    error_summary: str
    rerun_of: int | None
    cancel_requested: bool


class JobDetailOut(JobOut):
    steps: list[StepOut]


class LogLineOut(Out):
    """One log line, the payload of a websocket ``log`` frame too (``etl.shapes.log_line_out``)."""

    job_id: int
    seq: int
    level: str
    sistema: str = Field(..., description="the system's name as operators read it, e.g. MAPS")
    sistema_id: str = Field(..., description="the system's stored code, e.g. maps")
    mensagem: str
    timestamp: str = Field(..., json_schema_extra={"format": "date-time"}, examples=["2025-01-15T10:30:00.000Z"])


class FundIn(Strict):
    code: FundCode
    name: Annotated[SafeStr, column_max(Fund, "name")] = ""
    active: StrictBool = True


class FundOut(Schema):
    id: int
    code: str
    name: str
    active: bool


class FundsActiveIn(Strict):
    ids: list[DbId] = Field(..., max_length=10_000)
    ativo: StrictBool


class PathIn(Strict):
    path: Annotated[SafeStr, column_max(PathConfig, "path")]


class PathOut(Schema):
    kind: str
    path: str


class CountOut(Schema):
    count: int


class JobFilter(PageIn):
    status: Annotated[SafeStr, column_max(Job, "status")] | None = None
    sistema: SystemCode | None = None
    data_de: dt.date | None = None
    data_ate: dt.date | None = None


class PortfolioFilter(Schema):
    data: dt.date | None = None
    sistema: SystemCode | None = None
    fundo: FundCode | None = None


class FundFilter(PageIn):
    q: Annotated[SafeStr, column_max(Fund, "name")] = ""


class LogWindow(Schema):
    after_seq: DbInt = 0
    limit: DbInt = 500


class JobPage(Page[JobOut]):
    """A window of jobs."""


class FundPage(Page[FundOut]):
    """A window of funds."""
