"""Big exports become a Celery job the caller polls; the download link works only for them,
and only for a while."""

import datetime as dt

import pytest
from django.core import signing
from freezegun import freeze_time

from accounts.enums import Role
from core.audit import AuditEvent
from reports.models import ReportExport
from tests.accounts.factories import UserFactory
from tests.reports.conftest import read_csv, read_xlsx
from tests.reports.factories import client_for, staff

pytestmark = pytest.mark.django_db

URL = "/api/v1/admin/reports/onboarding/"


@pytest.fixture
def users(settings):
    settings.REPORT_EXPORT_SYNC_MAX_ROWS = 3
    return [UserFactory() for _ in range(5)]


def _start(client, django_capture_on_commit_callbacks, output="csv"):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(URL, {"format": output, "group": "user"})
    assert response.status_code == 202, response.content
    return response.json()


def test_a_big_csv_export_runs_as_a_job_and_downloads_for_its_requester(admin_client, admin_user, users,
                                                                        django_capture_on_commit_callbacks):
    job = _start(admin_client, django_capture_on_commit_callbacks)
    assert job["status"] == "pending"
    polled = admin_client.get(job["poll_url"]).json()
    assert (polled["status"], polled["row_count"]) == ("done", 5)
    download = admin_client.get(polled["download_url"])
    assert download.status_code == 200
    rows = read_csv(download)
    assert rows[0][:2] == ["User ID", "Phone"]
    assert sorted(int(row[0]) for row in rows[1:]) == sorted(user.pk for user in users)
    event = AuditEvent.objects.get(action="report.exported")
    assert (event.actor_id, event.data["report"], event.data["format"]) == (admin_user.pk, "onboarding", "csv")


def test_a_big_xlsx_export_is_written_row_by_row(admin_client, users, django_capture_on_commit_callbacks):
    job = _start(admin_client, django_capture_on_commit_callbacks, output="xlsx")
    polled = admin_client.get(job["poll_url"]).json()
    rows = read_xlsx(admin_client.get(polled["download_url"]))
    assert len(rows) == 6
    assert rows[0][0] == "User ID"


def test_another_staff_member_cannot_see_or_download_the_export(admin_client, users,
                                                                django_capture_on_commit_callbacks):
    job = _start(admin_client, django_capture_on_commit_callbacks)
    link = admin_client.get(job["poll_url"]).json()["download_url"]
    other = client_for(staff(Role.ADMIN))
    assert other.get(job["poll_url"]).status_code == 404
    assert other.get(link).status_code == 404
    # A token signed for someone else does not open it either.
    export = ReportExport.objects.get()
    forged = signing.dumps({"export": export.pk, "user": export.requested_by_id + 999},
                           salt="reports.export.download")
    path = link.split("?")[0]
    response = admin_client.get(f"{path}?token={forged}")
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "export_link_invalid"


def test_the_download_link_expires(admin_client, users, django_capture_on_commit_callbacks, settings):
    settings.REPORT_EXPORT_LINK_SECONDS = 300  # an hour by default; the access token lives 15 minutes
    job = _start(admin_client, django_capture_on_commit_callbacks)
    link = admin_client.get(job["poll_url"]).json()["download_url"]
    with freeze_time(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=4)):
        assert admin_client.get(link).status_code == 200
    with freeze_time(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=6)):
        response = admin_client.get(link)
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "export_link_invalid"


def test_expired_files_are_purged(admin_client, users, django_capture_on_commit_callbacks):
    from reports.services import report_export_purge

    _start(admin_client, django_capture_on_commit_callbacks)
    export = ReportExport.objects.get()
    assert export.file
    with freeze_time(dt.datetime.now(dt.UTC) + dt.timedelta(hours=25)):
        assert report_export_purge() == 1
    export.refresh_from_db()
    assert not export.file


def test_small_exports_answer_inline_and_stream(admin_client, settings):
    UserFactory()
    response = admin_client.get(URL, {"format": "csv"})
    assert response.status_code == 200
    assert response.streaming
    assert not ReportExport.objects.exists()
