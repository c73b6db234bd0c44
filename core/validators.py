"""One validator per Indian identifier, built on python-stdnum where it has the identifier.

Each returns the normalised value (Aadhaar: only its last four digits, the only part that may
be stored) and raises Django's `ValidationError` with a `code` naming the rule that failed, so
it works as a model-field validator, a DRF field validator (DRF keeps the code) and, through
`check()`, from services. Other apps import these (invoices: a party's PAN and GSTIN).
"""

import re
from collections.abc import Callable

from django.core.exceptions import ValidationError
from rest_framework import exceptions
from rest_framework.exceptions import ErrorDetail
from stdnum import exceptions as stdnum_errors
from stdnum.in_ import aadhaar, gstin
from stdnum.in_ import pan as stdnum_pan

# The fourth character of a PAN says who holds it.
INDIVIDUAL_PAN_TYPE = "P"
PAN_HOLDER_TYPES = frozenset("ABCFGHLJPTK")

_IFSC = re.compile(r"^[A-Z]{4}0[A-Z0-9]{6}$")
_INDIAN_MOBILE = re.compile(r"^[6-9][0-9]{9}$")  # ASCII digits only
_ACCOUNT_NUMBER = re.compile(r"^[0-9]{9,18}$")


def _stdnum_rule(exc: stdnum_errors.ValidationError) -> str:
    if isinstance(exc, stdnum_errors.InvalidLength):
        return "invalid_length"
    if isinstance(exc, stdnum_errors.InvalidChecksum):
        return "invalid_checksum"
    if isinstance(exc, stdnum_errors.InvalidComponent):
        return "invalid_component"
    return "invalid_format"


def validate_pan(value: str, *, individual: bool | None = None) -> str:
    """PAN: five letters, four digits, a letter; the fourth letter a known holder type.
    `individual=True/False` also requires (or forbids) the individual type `P`."""
    number = stdnum_pan.compact(value or "")
    try:
        stdnum_pan.validate(number)
    except stdnum_errors.ValidationError as exc:
        rule = _stdnum_rule(exc)
        if rule == "invalid_component" and len(number) == 10 and number[3] not in PAN_HOLDER_TYPES:
            raise ValidationError("The PAN's fourth letter is not a known holder type.",
                                  code="pan_invalid_holder_type") from exc
        raise ValidationError(f"Enter a valid PAN, e.g. ABCPE1234F ({rule.replace('_', ' ')}).",
                              code=f"pan_{rule}") from exc
    if individual is True and number[3] != INDIVIDUAL_PAN_TYPE:
        raise ValidationError("An individual's PAN has P as its fourth letter.", code="pan_holder_type_mismatch")
    if individual is False and number[3] == INDIVIDUAL_PAN_TYPE:
        raise ValidationError("A company's PAN cannot be an individual's (fourth letter P).",
                              code="pan_holder_type_mismatch")
    return number


def validate_gstin(value: str, *, pan: str | None = None) -> str:
    """GSTIN: state code, the holder's PAN, entity number, `Z` and a Luhn mod 36 check
    character. With `pan=`, the embedded PAN must be that one."""
    number = gstin.compact(value or "")
    try:
        gstin.validate(number)
    except stdnum_errors.ValidationError as exc:
        rule = _stdnum_rule(exc)
        raise ValidationError(f"Enter a valid GSTIN ({rule.replace('_', ' ')}).", code=f"gstin_{rule}") from exc
    if pan is not None and gstin.to_pan(number) != stdnum_pan.compact(pan):
        raise ValidationError("The GSTIN does not contain this PAN.", code="gstin_pan_mismatch")
    return number


def validate_ifsc(value: str) -> str:
    """IFSC: four letters (the bank), a zero, six letters or digits (the branch)."""
    code = (value or "").strip().upper()
    if not _IFSC.match(code):
        raise ValidationError("Enter a valid IFSC, e.g. HDFC0001234.", code="ifsc_invalid_format")
    return code


def validate_aadhaar(value: str) -> str:
    """Aadhaar: twelve digits, not starting with 0 or 1, Verhoeff check digit. Returns only
    the last four digits: the full number must never be stored."""
    number = aadhaar.compact(value or "")
    try:
        aadhaar.validate(number)
    except stdnum_errors.ValidationError as exc:
        rule = _stdnum_rule(exc)
        raise ValidationError(f"Enter a valid Aadhaar number ({rule.replace('_', ' ')}).",
                              code=f"aadhaar_{rule}") from exc
    return number[-4:]


def validate_indian_mobile(value: str) -> str:
    """An Indian mobile number, typed as people write it; returns E.164 (`+919876543210`)."""
    number = re.sub(r"[\s\-().]", "", value or "")
    for prefix in ("+91", "0091", "91", "0"):
        if number.startswith(prefix) and len(number) - len(prefix) == 10:
            number = number[len(prefix):]
            break
    if not _INDIAN_MOBILE.match(number):
        raise ValidationError("Enter a valid Indian mobile number, e.g. +919876543210.",
                              code="mobile_invalid_format")
    return "+91" + number


def validate_account_number(value: str) -> str:
    number = re.sub(r"[\s-]", "", value or "")
    if not _ACCOUNT_NUMBER.match(number):
        raise ValidationError("A bank account number has 9 to 18 digits.", code="account_number_invalid_format")
    return number


def check(validator: Callable[..., str], value: str, *, attr: str, **options) -> str:
    """Run a validator from a service: a failure becomes a 400 naming the field and the rule."""
    try:
        return validator(value, **options)
    except ValidationError as exc:
        raise exceptions.ValidationError({attr: [ErrorDetail(exc.messages[0], code=exc.code)]}) from exc
