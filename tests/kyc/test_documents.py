import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.audit import AuditEvent
from kyc.models import KYCDocument
from tests.accounts.factories import UserFactory
from tests.conftest import authenticate

pytestmark = pytest.mark.django_db

URL = "/api/v1/kyc/documents/"
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def upload(client, content: bytes, name="pan.pdf", kind="pan_card"):
    return client.post(URL, {"kind": kind, "file": SimpleUploadedFile(name, content)}, format="multipart")


@pytest.mark.parametrize(("content", "content_type"), [(PDF, "application/pdf"), (PNG, "image/png"),
                                                       (JPEG, "image/jpeg")])
def test_pdf_jpeg_and_png_are_accepted_by_content(investor, investor_client, content, content_type):
    response = upload(investor_client, content, name="scan.bin")  # the name says nothing
    assert response.status_code == 201, response.json()
    document = KYCDocument.objects.get(user=investor)
    assert (document.content_type, document.size) == (content_type, len(content))
    assert re.fullmatch(r"kyc/[0-9a-f]{32}\.(pdf|png|jpg)", document.file.name)  # nothing of the user in it
    assert AuditEvent.objects.filter(action="kyc.document_uploaded", actor=investor).count() == 1


def test_a_file_named_pdf_that_is_not_one_is_refused(investor_client):
    response = upload(investor_client, b"MZ\x90\x00 this is an exe", name="pan.pdf")
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "document_type_not_allowed"
    assert response.json()["errors"][0]["attr"] == "file"
    assert not KYCDocument.objects.exists()


def test_more_than_5_mb_is_refused(investor_client):
    response = upload(investor_client, PDF + b"0" * (5 * 1024 * 1024))
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "document_too_large"
    assert not KYCDocument.objects.exists()


def test_exactly_5_mb_is_accepted(investor_client):
    content = PDF + b"0" * (5 * 1024 * 1024 - len(PDF))
    assert upload(investor_client, content).status_code == 201


def test_the_owner_downloads_it(investor_client):
    document_id = upload(investor_client, PDF).json()["id"]
    response = investor_client.get(f"{URL}{document_id}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")


def test_another_investor_gets_a_404_and_a_reviewer_may_download(investor_client, reviewer_client, reviewer):
    document_id = upload(investor_client, PNG, kind="address_proof").json()["id"]
    stranger = authenticate(type(investor_client)(), UserFactory())
    response = stranger.get(f"{URL}{document_id}/download/")
    assert response.status_code == 404 and response.json()["errors"][0]["code"] == "not_found"
    assert stranger.get(URL).json()["count"] == 0

    staff = reviewer_client.get(f"{URL}{document_id}/download/")
    assert staff.status_code == 200 and b"".join(staff.streaming_content) == PNG
    assert AuditEvent.objects.filter(action="kyc.document_downloaded", actor=reviewer).count() == 1


def test_the_list_costs_a_fixed_number_of_queries(investor_client, django_assert_max_num_queries):
    upload(investor_client, PDF)
    with django_assert_max_num_queries(4):
        first = investor_client.get(URL)
    for _ in range(4):
        upload(investor_client, PNG)
    with django_assert_max_num_queries(4):
        second = investor_client.get(URL)
    assert (first.json()["count"], second.json()["count"]) == (1, 5)
