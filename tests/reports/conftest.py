import io

import pytest

from accounts.enums import Role
from tests.reports.factories import client_for, staff


@pytest.fixture
def admin_user(db):
    return staff(Role.ADMIN)


@pytest.fixture
def admin_client(admin_user):
    return client_for(admin_user)


@pytest.fixture
def super_admin(db):
    return staff(Role.SUPER_ADMIN)


@pytest.fixture
def super_client(super_admin):
    return client_for(super_admin)


def read_csv(response) -> list[list[str]]:
    import csv

    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def read_xlsx(response) -> list[list]:
    from openpyxl import load_workbook

    body = b"".join(response.streaming_content) if response.streaming else response.content
    workbook = load_workbook(io.BytesIO(body), read_only=True)
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]
