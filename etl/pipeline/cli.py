"""Command line of the bundled pipeline; every line it prints follows DESIGN.md §4.3."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx

from etl.conf import PIPELINE_MAX_DAYS as MAX_DAYS
from etl.pipeline.positions import MalformedReport, PositionRow, parse_positions

EXIT_AUTH, EXIT_MALFORMED, EXIT_DOWNLOAD, EXIT_CONFIG = 2, 3, 4, 5


class PipelineError(Exception):
    """A failure already explained to the operator; carries the exit status."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def emit(level: str, system: str, message: str) -> None:
    """Print one protocol line."""
    print(f"[{level}] [{system.upper()}] {message}", flush=True)


def progress(system: str, percent: int, text: str) -> None:
    """Print one progress line."""
    print(f"[PROGRESS] [{system.upper()}] {percent} {text}", flush=True)


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resync_site.settings")
    import django

    django.setup()


def _from_env_or_db(name: str, system: str, load: Any) -> Any:
    raw = os.environ.get(name, "")
    if raw:
        return json.loads(raw).get(system, {})
    _django()
    return load(system)


def _db_credentials(system: str) -> dict[str, dict[str, str]]:
    from etl.models import Credential
    from etl.services.credentials import credential_password

    return {
        c.subaccount or "_": {
            "url": c.url or c.system.base_url,
            "username": c.username,
            "password": credential_password(c) if c.password_sealed else "",
        }
        for c in Credential.objects.select_related("system").filter(system__code=system)
    }


def _db_options(system: str) -> dict[str, Any]:
    from etl.models import System

    found = System.objects.filter(code=system).values_list("options", flat=True).first()
    return dict(found or {})


def _folders() -> dict[str, Path]:
    raw = os.environ.get("ETL_PATHS", "")
    if raw:
        configured: dict[str, str] = json.loads(raw)
    else:
        _django()
        from etl.models import PathConfig

        configured = {p.kind: p.path for p in PathConfig.objects.all()}
    var_dir = Path(os.environ.get("RESYNC_VAR_DIR", "var"))
    folders = {kind: Path(configured.get(kind) or var_dir / "etl" / kind) for kind in ("csv", "pdf", "excel")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    return folders


def _download(client: httpx.Client, system: str, account: dict[str, str], path: str, params: dict[str, str]) -> bytes:
    url = account["url"].rstrip("/") + path
    try:
        response = client.get(url, params=params, auth=(account["username"], account["password"]))
    except httpx.HTTPError as exc:
        raise PipelineError(f"download of {url} failed: {type(exc).__name__}: {exc}", EXIT_DOWNLOAD) from None
    if response.status_code == 401:
        raise PipelineError(
            f"authentication failed (HTTP 401) for user {account['username']!r} at {url}: check the credentials",
            EXIT_AUTH,
        )
    if response.status_code != 200:
        raise PipelineError(f"download of {url} answered HTTP {response.status_code}", EXIT_DOWNLOAD)
    return response.content


def _dates(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


def run_system(system: str, start: dt.date, end: dt.date, folders: dict[str, Path], client: httpx.Client) -> int:
    """Download, validate and load one system's reports; return the number of positions loaded."""
    credentials: dict[str, dict[str, str]] = _from_env_or_db("ETL_CREDENTIALS", system, _db_credentials)
    options: dict[str, Any] = _from_env_or_db("ETL_OPTIONS", system, _db_options)
    accounts = [a for a in options.get("subcontas", []) if a in credentials] or sorted(credentials)
    if not accounts:
        raise PipelineError("no credentials configured for this system", EXIT_CONFIG)
    kinds = (
        ["csv"]
        + (["pdf"] if options.get("baixar_pdf", True) else [])
        + (["excel"] if options.get("baixar_excel", True) else [])
    )
    days = _dates(start, end)
    total = len(accounts) * len(days) * len(kinds) + 1
    done = 0
    rows: list[PositionRow] = []
    for account_name in accounts:
        account = credentials[account_name]
        label = "" if account_name == "_" else account_name
        for day in days:
            params = {"data": day.isoformat(), **({"conta": label} if label else {})}
            stem = "_".join(p for p in (system, label, day.isoformat()) if p)
            for kind in kinds:
                path, name = {
                    "csv": (f"/{system}/positions.csv", f"{stem}.csv"),
                    "pdf": (f"/{system}/report.pdf", f"{stem}.pdf"),
                    "excel": (f"/{system}/report.xlsx", f"{stem}.xlsx"),
                }[kind]
                emit("INFO", system, f"baixando {path} ({label or 'conta principal'}, {day})")
                body = _download(client, system, account, path, params)
                target = folders[kind] / name
                target.write_bytes(body)
                emit("INFO", system, f"salvo {target.name} ({len(body)} bytes)")
                if kind == "csv":
                    try:
                        found = parse_positions(body.decode("utf-8", errors="replace"), start=start, end=end)
                    except MalformedReport as exc:
                        raise PipelineError(f"{target.name}: {exc}", EXIT_MALFORMED) from None
                    emit("INFO", system, f"{target.name}: {len(found)} posições válidas")
                    rows.extend(found)
                done += 1
                progress(system, done * 100 // total, f"{done}/{total} arquivos")
    unknown: dict[str, int] = {}
    if options.get("carregar_posicoes", True) and os.environ.get("ETL_POSITIONS_FILE"):
        loaded = hand_over_positions(system, rows)
        emit("INFO", system, f"{loaded} posições validadas, entregues ao worker para carga")
    elif options.get("carregar_posicoes", True):
        loaded, unknown = load_positions(system, rows)
        emit("INFO", system, f"{loaded} posições carregadas no portfólio")
        for code, count in sorted(unknown.items()):
            emit("WARNING", system, f"fundo não configurado {code}: {count} posições ignoradas (cadastre-o em Fundos)")
    else:
        loaded = 0
        emit("INFO", system, "carga de posições desativada nas opções")
    progress(
        system, 100, f"concluído; fundos não configurados: {', '.join(sorted(unknown))}" if unknown else "concluído"
    )
    return loaded


def hand_over_positions(system: str, rows: list[PositionRow]) -> int:
    """Write ``rows`` to the file the runner named (``ETL_POSITIONS_FILE``) for the worker to load; return how many.

    The child never opens the platform's database: the worker, which has it, loads what the file holds.
    """
    target = Path(os.environ["ETL_POSITIONS_FILE"])
    handed = json.loads(target.read_text()) if target.exists() else {}
    handed[system] = [
        {
            "fund": r.fund,
            "asset": r.asset,
            "quantity": str(r.quantity),
            "price": str(r.price),
            "value": str(r.value),
            "date": r.date.isoformat(),
        }
        for r in rows
    ]
    partial = target.with_suffix(".partial")
    partial.write_text(json.dumps(handed))
    partial.replace(target)  # the runner reads a whole file or none
    return len(rows)


def load_positions(system: str, rows: list[PositionRow]) -> tuple[int, dict[str, int]]:
    """Load ``rows`` into the portfolio directly (the pipeline run by hand, with the database in its settings).

    Return how many were loaded and, per fund nobody configured, how many rows were left out.
    """
    _django()
    from etl.services.positions import positions_load

    job_id = int(os.environ["ETL_JOB_ID"]) if os.environ.get("ETL_JOB_ID", "").isdigit() else None
    return positions_load(system_code=system, rows=[dataclasses.asdict(r) for r in rows], job_id=job_id)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date as YYYY-MM-DD") from None


def main(argv: list[str]) -> int:
    """Run the pipeline over the chosen systems; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m etl.pipeline", description=__doc__)
    parser.add_argument("--sistemas", default="", help="comma-separated system codes, e.g. amplis,maps")
    parser.add_argument("--data-inicial", required=True, type=_date)
    parser.add_argument("--data-final", type=_date)
    # The runner passes the code after "--": a value, never an option, whatever it looks like.
    parser.add_argument("codes", nargs="*", metavar="SISTEMA", help="system codes (after --)")
    args = parser.parse_args(argv)
    start: dt.date = args.data_inicial
    end: dt.date = args.data_final or start
    systems = [s.strip().lower() for s in [*args.sistemas.split(","), *args.codes] if s.strip()]
    if not systems:
        parser.error("name at least one system: --sistemas a,b or -- a b")
    if end < start or (end - start).days >= MAX_DAYS:
        emit("ERROR", systems[0] if systems else "etl", f"date range {start}..{end} must be 1 to {MAX_DAYS} days")
        return EXIT_CONFIG
    folders = _folders()
    with httpx.Client(timeout=30.0) as client:
        for system in systems:
            emit("INFO", system, f"iniciando {system} de {start} a {end}")
            try:
                run_system(system, start, end, folders, client)
            except PipelineError as exc:
                emit("ERROR", system, str(exc))
                return exc.exit_code
            except Exception as exc:  # noqa: BLE001 — the operator gets one clear line and a non-zero exit
                emit("CRITICAL", system, f"unexpected failure: {type(exc).__name__}: {exc}")
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
