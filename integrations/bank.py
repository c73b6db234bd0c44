"""Bank account verification by penny drop: `BANK_PROVIDER=sandbox` (default) or `razorpayx`.

A penny drop sends ₹1 to the account and reports whether it is open and the name the bank
holds for it. The adapter reports what the bank said; the kyc app compares the name.

Sandbox rule (README): an account number ending in `000` fails; any other verifies with the
holder name as given.
"""

import hashlib
from dataclasses import dataclass
from typing import Literal, Protocol

from django.conf import settings

from integrations.errors import IntegrationError
from integrations.http import HttpAdapter, log_sandbox_call

PennyDropOutcome = Literal["verified", "failed", "pending"]


@dataclass(frozen=True)
class PennyDrop:
    outcome: PennyDropOutcome
    registered_name: str = ""
    reference: str = ""
    reason: str = ""


class BankVerifier(Protocol):
    def penny_drop(self, *, account_number: str, ifsc: str, holder_name: str, reference: str) -> PennyDrop: ...

    def penny_drop_status(self, *, provider_reference: str) -> PennyDrop: ...


class SandboxBank:
    provider = "sandbox"

    def penny_drop(self, *, account_number: str, ifsc: str, holder_name: str, reference: str) -> PennyDrop:
        log_sandbox_call(service="bank", provider=self.provider, operation="penny_drop")
        provider_reference = "sbx_fav_" + hashlib.sha256(f"{ifsc}|{account_number}".encode()).hexdigest()[:16]
        if account_number.endswith("000"):
            return PennyDrop(outcome="failed", reference=provider_reference, reason="Account does not exist")
        return PennyDrop(outcome="verified", registered_name=holder_name, reference=provider_reference)

    def penny_drop_status(self, *, provider_reference: str) -> PennyDrop:
        raise IntegrationError("the sandbox answers at once; there is nothing to poll", service="bank",
                               operation="penny_drop_status")


class RazorpayXBank(HttpAdapter):
    """RazorpayX fund-account validation. Creating one moves money, so it is never retried
    blindly (a timeout leaves the account pending and the sweep asks again); reading one is."""

    service = "bank"
    provider = "razorpayx"

    def __init__(self, **kwargs):
        self.key_id = settings.RAZORPAYX_KEY_ID
        self.key_secret = settings.RAZORPAYX_KEY_SECRET
        self.source_account = settings.RAZORPAYX_ACCOUNT_NUMBER
        kwargs.setdefault("base_url", settings.RAZORPAYX_BASE_URL)
        super().__init__(secrets=[self.key_secret], **kwargs)
        self.client.auth = (self.key_id, self.key_secret)

    def penny_drop(self, *, account_number: str, ifsc: str, holder_name: str, reference: str) -> PennyDrop:
        body = {
            "account_number": self.source_account,
            "fund_account": {
                "account_type": "bank_account",
                "bank_account": {"name": holder_name, "ifsc": ifsc, "account_number": account_number},
                "contact": {"name": holder_name, "reference_id": reference},
            },
            "amount": 100,
            "currency": "INR",
            "notes": {"reference": reference},
        }
        response = self.request("penny_drop", "POST", "/fund_accounts/validations", idempotent=False, json=body,
                                headers={"X-Payout-Idempotency": reference})
        return self._parse("penny_drop", response)

    def penny_drop_status(self, *, provider_reference: str) -> PennyDrop:
        response = self.request("penny_drop_status", "GET", f"/fund_accounts/validations/{provider_reference}",
                                idempotent=True)
        return self._parse("penny_drop_status", response)

    def _parse(self, operation: str, response) -> PennyDrop:
        try:
            payload = response.json()
            reference = str(payload["id"])
            status = payload.get("status")
            results = payload.get("results") or {}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise IntegrationError(f"razorpayx {operation}: unexpected answer", service=self.service,
                                   operation=operation, retryable=True) from exc
        if status == "completed" and results.get("account_status") == "active":
            return PennyDrop(outcome="verified", registered_name=results.get("registered_name") or "",
                             reference=reference)
        if status in ("completed", "failed"):
            reason = (payload.get("status_details") or {}).get("description") or "Account is not active"
            return PennyDrop(outcome="failed", reference=reference, reason=reason)
        return PennyDrop(outcome="pending", reference=reference)
