"""Seed the TDS rules on interest paid to resident investors (DESIGN.md §7). Idempotent (the
rules were first seeded by trading's 0003, when tax lived there; this keeps them current).

- FY 2025-26 (to 31 March 2026): Income-tax Act 1961, section 194A — 10% with a PAN, 20%
  without a valid one (section 206AA), threshold ₹10,000 a year for payers other than banks
  (raised from ₹5,000 by the Finance Act 2025).
- From 1 April 2026: the Income-tax Act 2025 replaces the 1961 Act; TDS provisions are
  consolidated in section 393 (interest other than on securities is in its table; the
  no-PAN rate in section 397). Same rates and threshold. The section code is data: correct
  it here or in the admin if the notified table numbering differs.
"""

import datetime as dt
from decimal import Decimal

from django.db import migrations

RULES = [
    {"kind": "interest", "section": "194A", "no_pan_section": "206AA",
     "description": "Income-tax Act 1961, s.194A: interest other than interest on securities",
     "rate_with_pan": Decimal("0.1000"), "rate_without_pan": Decimal("0.2000"),
     "yearly_threshold": Decimal("10000.00"), "effective_from": dt.date(2025, 4, 1),
     "effective_to": dt.date(2026, 3, 31)},
    {"kind": "interest", "section": "393(1)", "no_pan_section": "397",
     "description": "Income-tax Act 2025, s.393(1): interest other than interest on securities (was 194A)",
     "rate_with_pan": Decimal("0.1000"), "rate_without_pan": Decimal("0.2000"),
     "yearly_threshold": Decimal("10000.00"), "effective_from": dt.date(2026, 4, 1), "effective_to": None},
]


def seed(apps, schema_editor):
    TaxRule = apps.get_model("tax", "TaxRule")
    for rule in RULES:
        TaxRule.objects.update_or_create(kind=rule["kind"], effective_from=rule["effective_from"], defaults=rule)


class Migration(migrations.Migration):
    dependencies = [("tax", "0003_index_names")]

    # Backwards the rules stay: they are data that deductions refer to (trading's 0003 seeded them first).
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
