"""Servicing's outbox handlers (core autodiscovers `<app>/handlers.py`).

- `distribution.recorded` → run the distribution (idempotent: a paid one is left alone).
- `invoice.repaid` (invoices) → if the invoice has an offering, record a distribution for it
  (idempotent per offering and reference); its own event then runs it.
"""

import datetime as dt
from decimal import Decimal

from core.outbox import outbox_handler
from servicing.services import RECORDED_TOPIC, distribution_record_for_invoice, distribution_run


@outbox_handler(RECORDED_TOPIC)
def on_distribution_recorded(payload: dict) -> None:
    distribution_run(distribution_id=payload["distribution_id"])


@outbox_handler("invoice.repaid")
def on_invoice_repaid(payload: dict) -> None:
    distribution_record_for_invoice(
        organization_id=payload["organization_id"], invoice_id=payload["invoice_id"],
        amount=Decimal(str(payload["amount"])), received_on=dt.date.fromisoformat(payload["received_on"]),
        reference=str(payload["reference"]),
    )
