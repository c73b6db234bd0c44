"""Phone numbers in E.164. Indian numbers may be typed the way people write them:
`9876543210`, `09876543210`, `919876543210`, `+91 98765-43210` all become `+919876543210`.

ASCII digits only: a regex digit class also matches `९` or `٥`, and `+91 9५…` was a second identity for the
same number (one user per phone is the rule everything else builds on)."""

import re

from core.errors import InvalidInput

_SEPARATORS = re.compile(r"[ \t\-().]")
_INDIAN_MOBILE = re.compile(r"^[6-9][0-9]{9}$", re.ASCII)
_E164 = re.compile(r"^\+[1-9][0-9]{7,14}$", re.ASCII)


class InvalidPhone(InvalidInput):
    code = "invalid_phone"
    default_detail = "Enter a valid mobile number, e.g. +919876543210."


def normalize_phone(raw: str) -> str:
    if not isinstance(raw, str) or not raw.isascii():
        raise InvalidPhone(attr="phone")
    number = _SEPARATORS.sub("", raw.strip())
    if number.startswith("00"):
        number = "+" + number[2:]
    if number.startswith("+91"):
        national = number[3:]
    elif number.startswith("+"):
        if _E164.match(number):
            return number
        raise InvalidPhone(attr="phone")
    elif number.startswith("0") and len(number) == 11:
        national = number[1:]
    elif number.startswith("91") and len(number) == 12:
        national = number[2:]
    else:
        national = number
    if not _INDIAN_MOBILE.match(national):
        raise InvalidPhone(attr="phone")
    return "+91" + national
