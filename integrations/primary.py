"""Primary platform: `PRIMARY_PROVIDER=local` (this project's invoices app *is* the primary
platform, so there is nothing to pull) or `http` (an external primary platform whose
financed invoices and repayment events `manage.py import_primary` pulls in).

The HTTP contract (JSON, `Authorization: Bearer <PRIMARY_API_TOKEN>`, paginated with an
absolute `next` URL or null):

    GET {PRIMARY_API_URL}/financed-invoices/?since=<ISO time>
      {"results": [{"id", "number", "amount", "issue_date", "due_date", "finance_amount",
                    "disbursed_on", "seller": {"legal_name", "pan", "gstin"},
                    "buyer": {"legal_name", "pan", "gstin"}}], "next": …}
    GET {PRIMARY_API_URL}/repayments/?since=<ISO time>
      {"results": [{"reference", "invoice_id", "amount", "received_on"}], "next": …}

Money arrives as strings (a number is parsed as Decimal, never float). Both calls are reads,
so they are retried on timeouts and 5xx.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from django.conf import settings

from core.money import to_money
from integrations.errors import IntegrationError
from integrations.http import HttpAdapter, log_sandbox_call


@dataclass(frozen=True)
class PartyRecord:
    legal_name: str
    pan: str
    gstin: str


@dataclass(frozen=True)
class FinancedInvoiceRecord:
    external_id: str
    number: str
    seller: PartyRecord
    buyer: PartyRecord
    amount: Decimal
    issue_date: date
    due_date: date
    finance_amount: Decimal
    disbursed_on: date


@dataclass(frozen=True)
class RepaymentRecord:
    reference: str
    invoice_external_id: str
    amount: Decimal
    received_on: date


class PrimaryPlatform(Protocol):
    def financed_invoices(self, *, since: datetime | None = None) -> Iterator[FinancedInvoiceRecord]: ...

    def repayments(self, *, since: datetime | None = None) -> Iterator[RepaymentRecord]: ...


class LocalPrimary:
    """This project is the primary platform: its invoices and repayments are already here."""

    def financed_invoices(self, *, since: datetime | None = None) -> Iterator[FinancedInvoiceRecord]:
        log_sandbox_call(service="primary", provider="local", operation="financed_invoices")
        return iter(())

    def repayments(self, *, since: datetime | None = None) -> Iterator[RepaymentRecord]:
        log_sandbox_call(service="primary", provider="local", operation="repayments")
        return iter(())


def _party(data: dict) -> PartyRecord:
    return PartyRecord(legal_name=str(data.get("legal_name", "")), pan=str(data["pan"]),
                       gstin=str(data.get("gstin") or ""))


class HttpPrimary(HttpAdapter):
    service = "primary"
    provider = "http"

    def __init__(self, **kwargs):
        self.token = settings.PRIMARY_API_TOKEN
        if not settings.PRIMARY_API_URL:
            raise IntegrationError("PRIMARY_API_URL is not set.", service="primary", operation="configure")
        super().__init__(base_url=settings.PRIMARY_API_URL.rstrip("/") + "/", secrets=[self.token], **kwargs)

    def _pages(self, operation: str, path: str, since: datetime | None) -> Iterator[dict]:
        url: str | None = path
        params = {"since": since.isoformat()} if since else None
        while url:
            response = self.request(operation, "GET", url, idempotent=True, params=params,
                                    headers={"Authorization": f"Bearer {self.token}"})
            try:
                body = response.json(parse_float=Decimal)
                results = body["results"]
            except (ValueError, KeyError, TypeError) as exc:
                raise IntegrationError(f"primary {operation}: unexpected response", service="primary",
                                       operation=operation) from exc
            yield from results
            url, params = body.get("next"), None  # `next` carries its own query

    def financed_invoices(self, *, since: datetime | None = None) -> Iterator[FinancedInvoiceRecord]:
        for item in self._pages("financed_invoices", "financed-invoices/", since):
            try:
                yield FinancedInvoiceRecord(
                    external_id=str(item["id"]), number=str(item["number"]), seller=_party(item["seller"]),
                    buyer=_party(item["buyer"]), amount=to_money(str(item["amount"])),
                    issue_date=date.fromisoformat(item["issue_date"]), due_date=date.fromisoformat(item["due_date"]),
                    finance_amount=to_money(str(item["finance_amount"])),
                    disbursed_on=date.fromisoformat(item["disbursed_on"]),
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise IntegrationError(f"primary financed_invoices: malformed record {item.get('id')!r}",
                                       service="primary", operation="financed_invoices") from exc

    def repayments(self, *, since: datetime | None = None) -> Iterator[RepaymentRecord]:
        for item in self._pages("repayments", "repayments/", since):
            try:
                yield RepaymentRecord(reference=str(item["reference"]), invoice_external_id=str(item["invoice_id"]),
                                      amount=to_money(str(item["amount"])),
                                      received_on=date.fromisoformat(item["received_on"]))
            except (KeyError, TypeError, ValueError) as exc:
                raise IntegrationError(f"primary repayments: malformed record {item.get('reference')!r}",
                                       service="primary", operation="repayments") from exc
