"""Issue 21, item 7: every upload goes through one validator (core/uploads.py): its type is
sniffed from its bytes, its size bounded, and it is stored under a random name."""

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models

from invoices.models import Invoice
from tests.conftest import authenticate

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
HTML = b"<html><script>alert(document.cookie)</script></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


@pytest.fixture
def seller(db):
    from tests.invoices.conftest import build_world

    world = build_world()
    return world, world.client(world.signer_a)


def _upload(client, world, content: bytes, name: str, number: str):
    return client.post("/api/v1/invoices/", {
        "number": number, "buyer": world.buyer.pk, "amount": "1000.00", "issue_date": "2026-01-05",
        "due_date": "2026-03-05", "file": SimpleUploadedFile(name, content, content_type="application/pdf"),
    }, format="multipart")


@pytest.mark.parametrize(("content", "name", "code"), [
    (HTML, "invoice.html", "document_type_not_allowed"),
    (EXE, "invoice.pdf", "document_type_not_allowed"),     # the name lies; the bytes do not
    (PDF + b"0" * (6 * 1024 * 1024), "big.pdf", "document_too_large"),
])
def test_an_invoice_attachment_must_be_a_small_pdf_or_image(seller, content, name, code):
    world, client = seller
    response = _upload(client, world, content, name, "INV-BAD")
    assert response.status_code == 400, response.content[:200]
    assert (response.json()["errors"][0]["code"], response.json()["errors"][0]["attr"]) == (code, "file")
    assert not Invoice.objects.filter(number="INV-BAD").exists()


def test_a_20_mb_attachment_is_refused_before_it_is_read(seller):
    world, client = seller
    response = _upload(client, world, PDF + b"0" * (20 * 1024 * 1024), "big.pdf", "INV-BIG")
    assert (response.status_code, response.json()["errors"][0]["code"]) == (413, "request_too_large")


def test_an_invoice_attachment_is_stored_under_a_random_name(seller):
    world, client = seller
    response = _upload(client, world, PDF, "../../../etc/evil name.html", "INV-OK")
    assert response.status_code == 201, response.json()
    stored = Invoice.objects.get(number="INV-OK").file.name
    assert stored.startswith(f"invoices/{world.organization.pk}/") and stored.endswith(".pdf")
    assert "evil" not in stored and ".." not in stored


def test_a_deposit_proof_path_names_neither_the_user_nor_the_clients_file(api_client):
    from tests.wallet.factories import verified_investor
    from wallet.models import Deposit

    user = verified_investor()
    response = authenticate(api_client, user).post("/api/v1/wallet/deposits/", {
        "amount": "500.00", "method": "bank_transfer", "reference": "UTR-UPLOAD-1",
        "proof": SimpleUploadedFile("my-bank-slip.exe", PDF, content_type="application/x-msdownload"),
    }, format="multipart")
    assert response.status_code == 201, response.json()
    stored = Deposit.objects.get().proof.name
    assert stored.startswith("deposits/") and stored.endswith(".pdf")
    assert "my-bank-slip" not in stored and f"/{user.pk}/" not in stored


@pytest.mark.parametrize(("content", "code"), [
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "invalid_file"),        # an image is not a CSV
    (b"number,buyer_gstin\x00,amount\n", "invalid_file"),           # NUL bytes
    (b"number,buyer_gstin,amount,issue_date,due_date\n" + b"x" * (1024 * 1024), "invalid_file"),  # > 1 MB
])
def test_a_bulk_invoice_file_must_be_a_small_utf8_csv(seller, content, code):
    _world, client = seller
    response = client.post("/api/v1/invoices/bulk/", {"file": SimpleUploadedFile("rows.csv", content)},
                           format="multipart")
    assert response.status_code == 400, response.content[:200]
    assert response.json()["errors"][0]["code"] == code


def test_every_uploaded_file_field_stores_under_a_random_name():
    """A new FileField must name its files like core.uploads.upload_path (report exports are
    written by the server, named by it)."""
    checked = []
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if not isinstance(field, models.FileField) or model._meta.label == "reports.ReportExport":
                continue
            instance = model(**({"organization_id": 1} if hasattr(model, "organization_id") else {}))
            names = {field.generate_filename(instance, "../../evil.html") for _ in range(2)}
            assert len(names) == 2, (model, field.name)  # random each time
            for name in names:
                assert "evil" not in name and not name.endswith(".html") and ".." not in name, (model, name)
            checked.append(f"{model._meta.label}.{field.name}")
    assert sorted(checked) == ["invoices.Invoice.file", "kyc.KYCDocument.file", "tax.TaxDeclaration.file",
                               "wallet.Deposit.proof"]
