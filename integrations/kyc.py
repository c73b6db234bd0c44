"""KYC provider: `KYC_PROVIDER=sandbox` (deterministic, the default) or `signzy` (HTTP).

Three operations: prefill (what the provider knows for a phone number), PAN verification
(the name registered to a PAN) and PAN-to-GSTIN lookup. The adapter reports what the
provider said; deciding verified / manual review / rejected is the kyc app's job.

Sandbox rules (README): a well-formed PAN verifies with the submitted name; a PAN whose four
digits are `9999` is rejected; `8888` cannot be confirmed and goes to manual review.
"""

import hashlib
from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

from django.conf import settings
from stdnum import luhn

from integrations.errors import IntegrationError
from integrations.http import HttpAdapter, log_sandbox_call

PanOutcome = Literal["valid", "invalid", "unverifiable"]


@dataclass(frozen=True)
class Prefill:
    full_name: str = ""
    pan: str = ""
    date_of_birth: date | None = None
    address: str = ""


@dataclass(frozen=True)
class PanCheck:
    outcome: PanOutcome
    registered_name: str = ""
    reference: str = ""
    reason: str = ""


@dataclass(frozen=True)
class GstinRecord:
    gstin: str
    legal_name: str
    state: str


class KycProvider(Protocol):
    def prefill(self, *, phone: str) -> Prefill: ...

    def verify_pan(self, *, pan: str, name: str, date_of_birth: date | None) -> PanCheck: ...

    def gstins_for_pan(self, *, pan: str) -> list[GstinRecord]: ...


_SANDBOX_NAMES = ("Asha Rao", "Vikram Mehta", "Priya Nair", "Rahul Verma", "Meera Iyer", "Arjun Shah")
_GSTIN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _reference(prefix: str, *parts: str) -> str:
    return f"{prefix}_{hashlib.sha256('|'.join(parts).encode()).hexdigest()[:16]}"


class SandboxKyc:
    provider = "sandbox"

    def prefill(self, *, phone: str) -> Prefill:
        digits = "".join(ch for ch in phone if ch.isdigit())[-10:] or "0"
        name = _SANDBOX_NAMES[int(digits) % len(_SANDBOX_NAMES)]
        serial = f"{int(digits) % 8887 + 1:04d}"  # 0001-8887: never a sandbox reject/review number
        surname_initial = name.split()[-1][0].upper()
        check = chr(ord("A") + sum(int(d) for d in serial) % 26)
        log_sandbox_call(service="kyc", provider=self.provider, operation="prefill")
        return Prefill(
            full_name=name, pan=f"ABCP{surname_initial}{serial}{check}", date_of_birth=date(1990, 1, 1),
            address="12 Sandbox Road, Bengaluru 560001",
        )

    def verify_pan(self, *, pan: str, name: str, date_of_birth: date | None) -> PanCheck:
        log_sandbox_call(service="kyc", provider=self.provider, operation="verify_pan")
        reference = _reference("sbx_pan", pan)
        if pan[5:9] == "9999":
            return PanCheck(outcome="invalid", reference=reference, reason="PAN not found at the income-tax department")
        if pan[5:9] == "8888":
            return PanCheck(outcome="unverifiable", reference=reference, reason="PAN source unavailable")
        return PanCheck(outcome="valid", registered_name=name, reference=reference)

    def gstins_for_pan(self, *, pan: str) -> list[GstinRecord]:
        log_sandbox_call(service="kyc", provider=self.provider, operation="pan_to_gst")
        if pan[3] == "P":
            return []  # individuals in the sandbox have no GST registration
        records = []
        for state_code, state in (("27", "Maharashtra"), ("29", "Karnataka")):
            body = f"{state_code}{pan}1Z"
            records.append(GstinRecord(gstin=body + luhn.calc_check_digit(body, _GSTIN_ALPHABET),
                                       legal_name=f"Sandbox Enterprises {pan[5:9]} Private Limited", state=state))
        return records


class SignzyKyc(HttpAdapter):
    """Signzy's identity APIs. Every call is a lookup, so timeouts and 5xx are retried."""

    service = "kyc"
    provider = "signzy"

    def __init__(self, **kwargs):
        self.api_key = settings.SIGNZY_API_KEY
        kwargs.setdefault("base_url", settings.SIGNZY_BASE_URL)
        super().__init__(secrets=[self.api_key], **kwargs)
        self.client.headers["Authorization"] = self.api_key

    def _result(self, operation: str, path: str, body: dict) -> dict:
        response = self.request(operation, "POST", path, idempotent=True, json=body)
        try:
            return response.json()["result"]
        except (ValueError, KeyError, TypeError) as exc:
            raise IntegrationError(f"signzy {operation}: unexpected answer", service=self.service,
                                   operation=operation, retryable=True) from exc

    def prefill(self, *, phone: str) -> Prefill:
        result = self._result("prefill", "/phone/prefill", {"mobileNumber": phone.removeprefix("+91")})
        dob = result.get("dob") or None
        return Prefill(
            full_name=result.get("name") or "", pan=result.get("pan") or "",
            date_of_birth=date.fromisoformat(dob) if dob else None, address=result.get("address") or "",
        )

    def verify_pan(self, *, pan: str, name: str, date_of_birth: date | None) -> PanCheck:
        body = {"panNumber": pan, "name": name, "dob": date_of_birth.isoformat() if date_of_birth else None}
        result = self._result("verify_pan", "/pan/verify", body)
        status = str(result.get("status", "")).lower()
        outcome: PanOutcome = {"valid": "valid", "invalid": "invalid"}.get(status, "unverifiable")
        return PanCheck(outcome=outcome, registered_name=result.get("registeredName") or "",
                        reference=str(result.get("id") or ""), reason=result.get("reason") or "")

    def gstins_for_pan(self, *, pan: str) -> list[GstinRecord]:
        result = self._result("pan_to_gst", "/gst/pan-to-gst", {"panNumber": pan})
        return [
            GstinRecord(gstin=row["gstin"], legal_name=row.get("legalName", ""), state=row.get("state", ""))
            for row in result.get("gstins", [])
        ]
