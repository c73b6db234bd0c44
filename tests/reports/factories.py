"""Helpers for the staff side: a user of each role and an API client signed in as them."""

from rest_framework.test import APIClient

from accounts.enums import STAFF_ROLES
from tests.accounts.factories import UserFactory
from tests.conftest import authenticate


def staff(role: str, **fields):
    return UserFactory(role=role, is_staff=role in STAFF_ROLES, **fields)


def client_for(user) -> APIClient:
    return authenticate(APIClient(), user)
