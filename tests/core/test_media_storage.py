"""Media storage as a setting: local files by default, an S3-compatible bucket when
`MEDIA_STORAGE=s3`, where downloads are short-lived signed links to a private object.

The bucket is a real S3-compatible server on loopback (moto's server mode, a subprocess),
reached through django-storages and boto3 exactly as production reaches its bucket.
"""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from kyc.models import KYCDocument
from reports.models import ReportExport
from tests.accounts.factories import UserFactory
from tests.conftest import authenticate
from tests.reports.factories import client_for, staff

ROOT = Path(django_settings.BASE_DIR)
PORTS = range(8835, 8840)
BUCKET = "tranche-media-test"
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\n%%EOF\n"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing-key-id", "AWS_SECRET_ACCESS_KEY": "testing-secret"}


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail(f"no free port in {PORTS}")


@pytest.fixture(scope="module")
def s3_endpoint():
    port = _free_port()
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(endpoint, timeout=1)
                break
            except httpx.TransportError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("moto_server did not start")
                time.sleep(0.2)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def s3_media(s3_endpoint, settings):
    """This test's media go to a fresh private bucket on the loopback S3 server."""
    import boto3

    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1",
                          aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
    client.create_bucket(Bucket=BUCKET)
    env = {**os.environ, **CREDENTIALS, "MEDIA_STORAGE": "s3", "AWS_STORAGE_BUCKET_NAME": BUCKET,
           "AWS_S3_ENDPOINT_URL": s3_endpoint, "AWS_S3_REGION_NAME": "us-east-1"}
    settings.STORAGES = {**settings.STORAGES, "default": _storages_from(env)["default"]}
    settings.MEDIA_LINK_SECONDS = 60
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


def _storages_from(env: dict[str, str]) -> dict:
    """STORAGES as config/settings.py builds it from `env` (a fresh interpreter)."""
    env = {**env, "DEBUG": "1"}
    code = "import json, config.settings as s; print(json.dumps(s.STORAGES))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_local_files_are_the_default():
    env = {key: value for key, value in os.environ.items() if key != "MEDIA_STORAGE"}
    assert _storages_from(env)["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"


def test_an_unknown_media_storage_is_refused_at_start():
    result = subprocess.run([sys.executable, "-c", "import config.settings"], cwd=ROOT,
                            env={**os.environ, "DEBUG": "1", "MEDIA_STORAGE": "ftp"}, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0
    assert "MEDIA_STORAGE must be 'local' or 's3'" in result.stderr


@pytest.mark.django_db
def test_a_kyc_document_is_stored_in_the_bucket_and_downloaded_through_a_signed_link(s3_media, investor,
                                                                                   investor_client):
    upload = investor_client.post("/api/v1/kyc/documents/", {"kind": "pan_card",
                                                             "file": SimpleUploadedFile("pan.pdf", PDF)},
                                  format="multipart")
    assert upload.status_code == 201, upload.content
    key = KYCDocument.objects.get(pk=upload.json()["id"]).file.name
    assert s3_media.get_object(Bucket=BUCKET, Key=key)["Body"].read() == PDF

    answer = investor_client.get(f"/api/v1/kyc/documents/{upload.json()['id']}/download/")
    assert answer.status_code == 302
    link = answer["Location"]
    query = parse_qs(urlsplit(link).query)
    assert link.startswith(django_settings.STORAGES["default"]["OPTIONS"]["endpoint_url"])
    assert query["X-Amz-Expires"] == ["60"]
    fetched = httpx.get(link)
    assert fetched.status_code == 200
    assert fetched.content == PDF
    assert fetched.headers["content-type"] == "application/pdf"
    assert fetched.headers["content-disposition"].startswith("attachment;")

    unsigned = httpx.get(link.split("?", 1)[0])
    assert unsigned.status_code == 403  # the bucket is private: only a signed link works
    tampered = httpx.get(link.replace(f"/{key}?", f"/{key.replace('.pdf', '.png')}?"))
    assert tampered.status_code == 403


@pytest.mark.django_db
def test_another_investor_gets_no_link(s3_media, investor_client):
    document_id = investor_client.post("/api/v1/kyc/documents/", {"kind": "pan_card",
                                                                  "file": SimpleUploadedFile("pan.pdf", PDF)},
                                       format="multipart").json()["id"]
    stranger = authenticate(APIClient(), UserFactory())
    assert stranger.get(f"/api/v1/kyc/documents/{document_id}/download/").status_code == 404


@pytest.mark.django_db
def test_an_export_written_by_the_worker_downloads_from_the_bucket(s3_media, settings,
                                                                  django_capture_on_commit_callbacks):
    settings.REPORT_EXPORT_SYNC_MAX_ROWS = 1
    for _ in range(3):
        UserFactory()
    admin = client_for(staff("admin"))
    with django_capture_on_commit_callbacks(execute=True):  # the Celery job, run as the worker runs it
        job = admin.get("/api/v1/admin/reports/onboarding/", {"format": "csv", "group": "user"}).json()
    polled = admin.get(job["poll_url"]).json()
    assert polled["status"] == "done"
    key = ReportExport.objects.get(pk=job["id"]).file.name
    stored = s3_media.get_object(Bucket=BUCKET, Key=key)["Body"].read()

    answer = admin.get(polled["download_url"])
    assert answer.status_code == 302
    fetched = httpx.get(answer["Location"])
    assert fetched.status_code == 200
    assert fetched.content == stored
    assert fetched.content.decode("utf-8-sig").startswith("User ID,Phone")
    assert f'filename="onboarding-{job["id"]}.csv"' in fetched.headers["content-disposition"]
