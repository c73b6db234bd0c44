"""Servicing: repayments distributed to unit holders, with TDS (DESIGN.md §7).

Part of the `trading` app (its models carry the `trading` app label; `trading/models.py`
imports them). Layout: `models.py` (Distribution, DistributionCashFlow, DistributionLine,
TaxRule, TaxDeclaration, TDSDeduction), `tax.py` (financial years, rules, the TDS of one
line), `services.py` (record, run, default, declarations, days past due), `selectors.py`
(cash flows, portfolio, tax statement), `api.py`/`urls.py`, `handlers.py` (outbox),
`tasks.py` (beat), `reconcile.py` (books checks). ADR: docs/adr/0007-servicing.md.
"""
