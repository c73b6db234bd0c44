"""Servicing: repayments distributed to unit holders (DESIGN.md §7). The TDS on each line is
the tax app's (`tax/`).

Layout: `models.py` (Distribution, DistributionCashFlow, DistributionLine), `services.py`
(record, run, default, days past due), `selectors.py` (holdings with what they received,
cash flows, portfolio, the tax statement's rows), `api.py`/`urls.py`, `handlers.py`
(outbox), `tasks.py` (beat), `reconcile.py` (books checks). ADR: docs/adr/0007-servicing.md.
"""
