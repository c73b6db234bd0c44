import pytest
from django.core.exceptions import ValidationError

from core.validators import (
    validate_aadhaar,
    validate_gstin,
    validate_ifsc,
    validate_indian_mobile,
    validate_pan,
)


@pytest.mark.parametrize("gstin", ["27AAPFU0939F1ZV", "29AAGCB7383J1Z4", " 27aapfu0939f1zv "])
def test_valid_gstins_pass_and_come_back_normalised(gstin):
    assert validate_gstin(gstin) == gstin.strip().upper()


@pytest.mark.parametrize(
    ("gstin", "code"),
    [
        ("27AAPFU0939F1ZO", "gstin_invalid_checksum"),
        ("27AAPFU0939F1Z", "gstin_invalid_length"),
        ("369296450896540", "gstin_invalid_format"),
        ("27AAPFU0939F1AA", "gstin_invalid_component"),
    ],
)
def test_invalid_gstins_name_the_rule(gstin, code):
    with pytest.raises(ValidationError) as caught:
        validate_gstin(gstin)
    assert caught.value.code == code


def test_a_gstin_must_embed_the_profiles_pan():
    assert validate_gstin("27AAPFU0939F1ZV", pan="aapfu0939f") == "27AAPFU0939F1ZV"
    with pytest.raises(ValidationError) as caught:
        validate_gstin("27AAPFU0939F1ZV", pan="AAGCB7383J")
    assert caught.value.code == "gstin_pan_mismatch"


def test_aadhaar_checks_verhoeff_and_returns_only_the_last_four_digits():
    assert validate_aadhaar("2341 2341 2346") == "2346"
    for bad, code in [("234123412347", "aadhaar_invalid_checksum"), ("123412341234", "aadhaar_invalid_format"),
                      ("643343121", "aadhaar_invalid_length")]:
        with pytest.raises(ValidationError) as caught:
            validate_aadhaar(bad)
        assert caught.value.code == code


@pytest.mark.parametrize(
    ("pan", "code"),
    [
        ("ABCPE1234", "pan_invalid_length"),
        ("ABCP11234F", "pan_invalid_format"),
        ("ABCXE1234F", "pan_invalid_holder_type"),
        ("ABCPE0000F", "pan_invalid_component"),
    ],
)
def test_bad_pans_are_refused_naming_the_rule(pan, code):
    with pytest.raises(ValidationError) as caught:
        validate_pan(pan)
    assert caught.value.code == code


def test_pan_holder_type_against_the_kind_of_holder():
    assert validate_pan("abcpe1234f", individual=True) == "ABCPE1234F"
    assert validate_pan("AAGCB7383J", individual=False) == "AAGCB7383J"
    for pan, individual in [("AAGCB7383J", True), ("ABCPE1234F", False)]:
        with pytest.raises(ValidationError) as caught:
            validate_pan(pan, individual=individual)
        assert caught.value.code == "pan_holder_type_mismatch"


def test_ifsc():
    assert validate_ifsc("hdfc0001234") == "HDFC0001234"
    for bad in ["HDFC1001234", "HDF00001234", "HDFC000123", "HDFC0001234X", ""]:
        with pytest.raises(ValidationError) as caught:
            validate_ifsc(bad)
        assert caught.value.code == "ifsc_invalid_format"


def test_indian_mobile_numbers():
    for typed in ["9876543210", "09876543210", "919876543210", "+91 98765-43210"]:
        assert validate_indian_mobile(typed) == "+919876543210"
    for bad in ["5876543210", "98765", "+14155550123"]:
        with pytest.raises(ValidationError) as caught:
            validate_indian_mobile(bad)
        assert caught.value.code == "mobile_invalid_format"
