"""Tax reads: what a TDS decision needs to know of investors, tax statements, declarations.

A tax statement is composed from every app that pays investors income: each one named in
`settings.TAX_INCOME_SOURCES` is a function `(user, start, end) -> list[TaxIncome]` (servicing
today; funds will add its own), so tax imports none of them.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet, Sum
from django.utils.module_loading import import_string

from core.errors import PermissionDenied
from core.money import ZERO
from kyc.models import KYCProfile
from tax import rules
from tax.enums import DeclarationStatus
from tax.models import TaxDeclaration, TDSDeduction


@dataclass(frozen=True)
class TaxContext:
    brought_to_tax: dict[int, Decimal]  # the year's income already covered by a deduction row
    declared: set[int]  # investors with an accepted Form 15G/15H for the year
    profiles: dict[int, KYCProfile]  # for `rules.pan_info`


def tax_context(*, user_ids: list[int], financial_year: str, now) -> TaxContext:
    """For a TDS decision over several investors at once: three queries."""
    taxed = dict(TDSDeduction.objects.filter(user_id__in=user_ids, financial_year=financial_year)
                 .values_list("user_id").annotate(total=Sum("gross")))
    declared = set(TaxDeclaration.objects.filter(user_id__in=user_ids, financial_year=financial_year,
                                                 status=DeclarationStatus.ACCEPTED, decided_at__lte=now)
                   .values_list("user_id", flat=True))
    profiles = {p.user_id: p for p in KYCProfile.objects.filter(user_id__in=user_ids)}
    return TaxContext(brought_to_tax=taxed, declared=declared, profiles=profiles)


@dataclass(frozen=True)
class TaxIncome:
    """One statement row: what one source (`kind`, e.g. an offering) paid in the year."""

    kind: str
    reference_id: int
    title: str
    principal: Decimal
    interest: Decimal
    tds: Decimal

    @property
    def net(self) -> Decimal:
        return self.interest - self.tds


@dataclass(frozen=True)
class TaxStatement:
    financial_year: str
    start: dt.date
    end: dt.date
    name: str
    pan_masked: str
    sections: list[str]
    rows: list[TaxIncome]

    @property
    def interest(self) -> Decimal:
        return sum((row.interest for row in self.rows), ZERO)

    @property
    def tds(self) -> Decimal:
        return sum((row.tds for row in self.rows), ZERO)

    @property
    def net(self) -> Decimal:
        return self.interest - self.tds


def tax_statement_for_user(*, user, financial_year: str) -> TaxStatement:
    """Interest, TDS and net by source for one financial year (by the day credited). Raises
    ValueError for a label that is not a financial year. Two queries plus one per source."""
    start, end = rules.financial_year_bounds(financial_year)
    rows = [row for source in settings.TAX_INCOME_SOURCES
            for row in import_string(source)(user=user, start=start, end=end)]
    sections = sorted(set(TDSDeduction.objects.filter(user=user, financial_year=financial_year, tds__gt=0)
                          .values_list("section", flat=True)))
    profile = KYCProfile.objects.filter(user=user).first()
    return TaxStatement(financial_year=financial_year, start=start, end=end,
                        name=(profile.full_name if profile else "") or user.name or str(user.phone),
                        pan_masked=profile.masked_pan if profile and profile.pan else "",
                        sections=sections, rows=rows)


def tax_declaration_list_for_user(*, user) -> QuerySet[TaxDeclaration]:
    return TaxDeclaration.objects.filter(user=user).order_by("-id")


def tax_declaration_queue(*, actor, status: str | None = None) -> QuerySet[TaxDeclaration]:
    from kyc.permissions import is_kyc_reviewer

    if not is_kyc_reviewer(actor):
        raise PermissionDenied()
    declarations = TaxDeclaration.objects.select_related("user", "decided_by").order_by("submitted_at", "id")
    return declarations.filter(status=status) if status else declarations


def tds_sections(*, source_type: str, source_ids: list[int]) -> dict[int, str]:
    """The section each income line's deduction was made under, for a page of lines. One query."""
    return dict(TDSDeduction.objects.filter(source_type=source_type, source_id__in=source_ids)
                .values_list("source_id", "section"))


def tds_by_user(*, financial_year: str) -> dict[int, Decimal]:
    """For reports: TDS per investor in a financial year."""
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for user_id, amount in (TDSDeduction.objects.filter(financial_year=financial_year).values_list("user_id")
                            .annotate(total=Sum("tds"))):
        totals[user_id] = amount
    return dict(totals)
