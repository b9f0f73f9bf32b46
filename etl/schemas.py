"""Typed request and response shapes of the etl API (field names kept from the React frontend)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import ConfigDict, StrictBool, StrictStr

from core.schemas import MAX_ID, Out, Page, PageIn


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
    opcao: StrictStr
    valor: Any


class ExecuteIn(Strict):
    sistemas: list[StrictStr]
    data_inicial: StrictStr
    data_final: StrictStr | None = None


class ExecuteOneIn(Strict):
    data_inicial: StrictStr
    data_final: StrictStr | None = None


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
    code: StrictStr
    name: StrictStr = ""
    active: StrictBool = True


class FundOut(Schema):
    id: int
    code: str
    name: str
    active: bool


class FundsActiveIn(Strict):
    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(max_length=1000)
    ativo: StrictBool


class PathIn(Strict):
    path: StrictStr


class PathOut(Schema):
    kind: str
    path: str


class CountOut(Schema):
    count: int


class JobFilter(PageIn):
    status: str | None = None
    sistema: str | None = None
    data_de: dt.date | None = None
    data_ate: dt.date | None = None


class PortfolioFilter(Schema):
    data: dt.date | None = None
    sistema: str | None = None
    fundo: str | None = None


class FundFilter(PageIn):
    q: str = ""


class JobPage(Page[JobOut]):
    """A window of jobs."""


class FundPage(Page[FundOut]):
    """A window of funds."""
