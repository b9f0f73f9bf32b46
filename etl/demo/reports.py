"""Sample report contents of the demo server (deterministic per system, account and date)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
from decimal import Decimal

from django.conf import settings

SYSTEMS = {"amplis": "AMPLIS", "maps": "MAPS", "fidc": "FIDC"}
FUNDS = {
    "amplis": ("AMP-RF-01", "AMP-MM-02", "AMP-AC-03"),
    "maps": ("MAPS-PREV-01", "MAPS-RF-02"),
    "fidc": ("FIDC-SR-01", "FIDC-MZ-02"),
}
ASSETS = ("LTN-2027", "NTNB-2030", "PETR4", "VALE3", "CDB-ITAU-2026")
# Asking for this date serves a malformed row, so operators can see that failure mode.
MALFORMED_DATE = "1999-12-31"


def demo_password(system: str, account: str) -> str:
    """Return the demo server's password of an account (derived from the secret key, never in git)."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"etl-demo:{system}:{account}".encode(), hashlib.sha256)
    return digest.hexdigest()[:24]


def demo_username(system: str, account: str) -> str:
    """Return the demo server's user name of an account."""
    return f"{system}-{account}" if account else f"{system}-user"


def positions_csv(system: str, account: str, day: dt.date) -> str:
    """Return a positions report."""
    lines = ["fundo;ativo;quantidade;preco;valor;data"]
    for fund in FUNDS[system]:
        for index, asset in enumerate(ASSETS):
            seed = int(hashlib.sha256(f"{system}{account}{fund}{asset}{day}".encode()).hexdigest()[:8], 16)
            quantity = Decimal(100 + seed % 10_000)
            price = (Decimal(10 + seed % 900) + Decimal(index) / 7).quantize(Decimal("0.0001"))
            value = (quantity * price).quantize(Decimal("0.01"))
            fund_code = f"{fund}-{account.upper()}" if account else fund
            lines.append(f"{fund_code};{asset};{quantity};{price};{value};{day.isoformat()}")
    if day.isoformat() == MALFORMED_DATE:
        lines.insert(3, f"{FUNDS[system][0]};BROKEN;not-a-number;1;1;{day.isoformat()}")
    return "\n".join(lines) + "\n"


def report_pdf(system: str, day: dt.date) -> bytes:
    """Return a one-page PDF report."""
    text = f"Relatorio {SYSTEMS[system]} {day.isoformat()}".encode()
    stream = b"BT /F1 18 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def report_xlsx(system: str, account: str, day: dt.date) -> bytes:
    """Return the positions report as an Excel workbook."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    if sheet is None:
        raise RuntimeError("openpyxl created a workbook without a sheet")
    sheet.title = "posicoes"
    for line in positions_csv(system, account, day).splitlines():
        sheet.append(line.split(";"))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
