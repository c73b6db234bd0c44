from rest_framework import status

from core.errors import DomainError


class PreferenceLocked(DomainError):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    code = "preference_locked"
    default_detail = "Money movements and security events are always shown in the app."
