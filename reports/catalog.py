"""The reports staff read (API.md "Reports and administration"), one class each, and the
registry that `/api/v1/admin/reports/<name>/` looks them up in.

Each report is read-only over other apps' tables (reports "talks to all, read-only").
Figures are computed by the database in one query per page; money is summed as NUMERIC
and only formatted (quantized half up) in `reports.base`.
"""

from __future__ import annotations

import base64

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf, TruncDate
from rest_framework import serializers

from accounts.enums import Role
from accounts.models import User
from bidding.enums import ACTIVE_STATUSES, BidStatus
from bidding.models import Bid
from core.errors import NotFound
from kyc.enums import BankAccountStatus, KYCStatus
from kyc.selectors import users_with_onboarding
from reports.base import (
    BOOL,
    DATE,
    DATETIME,
    HOURS,
    INT,
    MONEY,
    RATE,
    TEXT,
    Column,
    DateRangeFilter,
    Report,
    bad_cursor,
    datetime_range,
)
from tax.enums import DeductionReason
from tax.models import TDSDeduction
from trading.enums import ListingKind
from trading.models import Trade
from wallet.enums import AccountKind
from wallet.models import Transfer

MONEY_FIELD = DecimalField(max_digits=18, decimal_places=2)
USER_ACCOUNT_KINDS = (AccountKind.AVAILABLE, AccountKind.HELD, AccountKind.PENDING_WITHDRAWAL)

REPORTS: dict[str, Report] = {}


def register(cls: type[Report]) -> type[Report]:
    REPORTS[cls.name] = cls()
    return cls


def report_get(name: str) -> Report:
    report = REPORTS.get(name)
    if report is None:
        raise NotFound(f"No report {name!r}. Reports: {', '.join(sorted(REPORTS))}.", code="report_not_found")
    return report


# --- Onboarding status of users (shared with the user-management list) ------------------------

# --- onboarding --------------------------------------------------------------------------------

class OnboardingFilter(DateRangeFilter):
    group = serializers.ChoiceField(choices=["day", "user"], default="day",
                                    help_text="`day`: the funnel per sign-up day; `user`: one row per investor.")
    kyc_status = serializers.ChoiceField(choices=KYCStatus.choices, required=False)
    bank_status = serializers.ChoiceField(choices=[*BankAccountStatus.choices, ("not_started", "Not started")],
                                          required=False)


@register
class OnboardingReport(Report):
    name = "onboarding"
    title = "Onboarding"
    description = "Investor sign-ups and how far each got: KYC submitted and verified, bank verified, can trade."
    FilterSerializer = OnboardingFilter
    has_chart = True

    BY_DAY = (
        Column("day", "Sign-up date", DATE),
        Column("signups", "Sign-ups", INT),
        Column("kyc_submitted", "KYC submitted", INT),
        Column("kyc_verified", "KYC verified", INT),
        Column("bank_verified", "Bank account verified", INT),
        Column("can_trade", "Can trade", INT),
    )
    BY_USER = (
        Column("user_id", "User ID", INT),
        Column("phone", "Phone"),
        Column("name", "Name"),
        Column("email", "Email"),
        Column("signed_up_at", "Signed up at", DATETIME),
        Column("kyc_status", "KYC status"),
        Column("kyc_submitted_at", "KYC submitted at", DATETIME),
        Column("kyc_verified_at", "KYC verified at", DATETIME),
        Column("bank_status", "Bank account status"),
        Column("bank_verified_at", "Bank verified at", DATETIME),
        Column("can_trade", "Can trade", BOOL),
    )

    def columns(self, filters):
        return self.BY_USER if filters.get("group") == "user" else self.BY_DAY

    def _users(self, filters) -> QuerySet[User]:
        users = users_with_onboarding(User.objects.filter(role=Role.INVESTOR, **datetime_range(filters, "date_joined")))
        if filters.get("kyc_status"):
            users = users.filter(kyc_status=filters["kyc_status"])
        if filters.get("bank_status"):
            users = users.filter(bank_status=filters["bank_status"])
        return users

    def rows(self, filters):
        users = self._users(filters)
        if filters.get("group") == "user":
            return users.annotate(
                can_trade=Case(When(Q(kyc_status=KYCStatus.VERIFIED, bank_status=BankAccountStatus.VERIFIED),
                                    then=Value(True)), default=Value(False)),
            ).order_by("date_joined", "id").values(
                "phone", "name", "email", "kyc_status", "kyc_submitted_at", "kyc_verified_at", "bank_status",
                "bank_verified_at", "can_trade", user_id=F("id"), signed_up_at=F("date_joined"),
            )
        kyc_verified = Q(kyc_status=KYCStatus.VERIFIED)
        bank_verified = Q(bank_status=BankAccountStatus.VERIFIED)
        return (
            users.annotate(day=TruncDate("date_joined")).order_by().values("day")
            .annotate(
                signups=Count("id"),
                kyc_submitted=Count("id", filter=~Q(kyc_status=KYCStatus.NOT_STARTED)),
                kyc_verified=Count("id", filter=kyc_verified),
                bank_verified=Count("id", filter=bank_verified),
                can_trade=Count("id", filter=kyc_verified & bank_verified),
            )
            .order_by("day")
        )

    def chart_png(self, filters) -> bytes:
        from reports.rendering import line_chart

        rows = list(self.rows({**filters, "group": "day"}))
        return line_chart(
            title="Onboarding funnel by sign-up day",
            x=[row["day"] for row in rows],
            series={"Sign-ups": [row["signups"] for row in rows],
                    "KYC verified": [row["kyc_verified"] for row in rows],
                    "Bank verified": [row["bank_verified"] for row in rows],
                    "Can trade": [row["can_trade"] for row in rows]},
            y_label="Investors",
        )


# --- transactions ------------------------------------------------------------------------------

class TransactionsFilter(DateRangeFilter):
    user = serializers.IntegerField(required=False, help_text="Only this user's accounts.")
    account = serializers.ChoiceField(choices=[(kind, kind) for kind in USER_ACCOUNT_KINDS], required=False)
    kind = serializers.CharField(required=False, max_length=48, help_text="Journal entry kind, e.g. `trade.buy`.")
    reference = serializers.CharField(required=False, max_length=100)


@register
class TransactionsReport(Report):
    """Every movement on every user account (one row per transfer leg that touches a user
    account), oldest first, with the account's balance right after it: a statement across
    users. System accounts (bank, fees …) are not rows; they show as the other side."""

    name = "transactions"
    title = "Transactions"
    description = "Ledger entries on user accounts with running balances."
    FilterSerializer = TransactionsFilter
    keyset = True

    COLUMNS = (
        Column("transfer_id", "Transfer ID", INT),
        Column("side", "Side"),
        Column("at", "Date and time", DATETIME),
        Column("user_id", "User ID", INT),
        Column("phone", "Phone"),
        Column("name", "Name"),
        Column("account", "Account"),
        Column("entry_id", "Entry ID", INT),
        Column("entry_kind", "Entry kind"),
        Column("reference", "Reference"),
        Column("memo", "Memo"),
        Column("debit", "Debit (money out)", MONEY),
        Column("credit", "Credit (money in)", MONEY),
        Column("balance_after", "Balance after", MONEY),
    )

    def columns(self, filters):
        return self.COLUMNS

    def _legs(self, filters, side: str, after: tuple[int, str] | None) -> QuerySet:
        """The transfers whose `side` is a user account and that pass the filters."""
        mine = "debit_account" if side == "debit" else "credit_account"
        legs = Transfer.objects.filter(**{f"{mine}__is_system": False}, **datetime_range(filters, "created_at"))
        if filters.get("user"):
            legs = legs.filter(**{f"{mine}__owner_id": filters["user"]})
        if filters.get("account"):
            legs = legs.filter(**{f"{mine}__kind": filters["account"]})
        if filters.get("kind"):
            # The period on the entry too (the same time), so its (kind, created_at) index serves.
            legs = legs.filter(entry__kind=filters["kind"], **datetime_range(filters, "entry__created_at"))
        if filters.get("reference"):
            legs = legs.filter(entry__reference=filters["reference"])
        if after is not None:
            # Rows come in (transfer_id, side) order, "credit" before "debit".
            after_id, after_side = after
            legs = legs.filter(id__gte=after_id) if side > after_side else legs.filter(id__gt=after_id)
        return legs.order_by()

    @staticmethod
    def _rows_of(legs: QuerySet, side: str) -> QuerySet:
        mine = "debit_account" if side == "debit" else "credit_account"
        nothing = Value(None, output_field=MONEY_FIELD)
        return legs.values(
            "entry_id",
            transfer_id=F("id"),
            side=Value(side),
            at=F("created_at"),
            user_id=F(f"{mine}__owner_id"),
            phone=F(f"{mine}__owner__phone"),
            name=F(f"{mine}__owner__name"),
            account=F(f"{mine}__kind"),
            entry_kind=F("entry__kind"),
            reference=F("entry__reference"),
            memo=F("entry__memo"),
            debit=F("amount") if side == "debit" else nothing,
            credit=F("amount") if side == "credit" else nothing,
            balance_after=F(f"{side}_balance_after"),
        )

    def rows_after(self, filters, cursor, limit: int | None = None):
        after = self._decode(cursor) if cursor else None
        credits = self._legs(filters, "credit", after)
        debits = self._legs(filters, "debit", after)
        if limit is not None and (filters.get("from") or filters.get("to")):
            # A page of a date range: first its keys, from the transfers alone, then those rows
            # in full. Each leg of the keys' UNION is planned for all its rows, so it is an
            # index range on `created_at`. Joined to their entries before the page is cut, the
            # whole period was; cut per leg, the planner walks the primary key from the start
            # instead, expecting the period's rows anywhere, slower the further back
            # (docs/benchmarks.md, "Reports").
            keys = credits.values("id", side=Value("credit")).union(
                debits.values("id", side=Value("debit")), all=True).order_by("id", "side")[:limit]
            page = sorted({key["id"] for key in keys})
            credits, debits = credits.filter(id__in=page), debits.filter(id__in=page)
        credits, debits = self._rows_of(credits, "credit"), self._rows_of(debits, "debit")
        if (limit is not None and not any(filters.get(key) for key in ("user", "from", "to", "reference"))
                and connection.features.supports_slicing_ordering_in_compound):  # not SQLite
            # An unfiltered page: each side takes its first `limit` rows by the primary key on
            # its own (an index scan that stops early) and only those are merged and sorted.
            # With a narrowing filter the planner does better on its own (measured with
            # bench/reports.py: docs/benchmarks.md, "Reports").
            credits, debits = credits.order_by("id")[:limit], debits.order_by("id")[:limit]
        return credits.union(debits, all=True).order_by("transfer_id", "side")

    def rows(self, filters):
        return self.rows_after(filters, None)

    def cursor_of(self, row) -> str:
        return base64.urlsafe_b64encode(f"{row['transfer_id']}:{row['side']}".encode()).decode()

    @staticmethod
    def _decode(cursor: str) -> tuple[int, str]:
        try:
            transfer_id, side = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
            if side not in ("credit", "debit"):
                raise ValueError(side)
            return int(transfer_id), side
        except (ValueError, UnicodeDecodeError):
            raise bad_cursor() from None


# --- sales-purchases ---------------------------------------------------------------------------

class TradesFilter(DateRangeFilter):
    offering = serializers.IntegerField(required=False)
    buyer = serializers.IntegerField(required=False)
    seller = serializers.IntegerField(required=False)
    listing_kind = serializers.ChoiceField(choices=ListingKind.choices, required=False)


@register
class SalesPurchasesReport(Report):
    """Every trade with both sides. The seller's gain or loss is on their average price:
    proceeds less the seller's fee less the cost of the units sold at the average price they
    paid (`Trade.seller_cost_basis`). Primary sales (the platform selling its inventory) have
    no gain/loss."""

    name = "sales-purchases"
    title = "Sales and purchases"
    description = "Every trade with buyer, seller, units, price, fees and the seller's gain or loss."
    FilterSerializer = TradesFilter

    COLUMNS = (
        Column("trade_id", "Trade ID", INT),
        Column("at", "Date and time", DATETIME),
        Column("offering_id", "Offering ID", INT),
        Column("offering_title", "Offering"),
        Column("listing_kind", "Sale kind"),
        Column("buyer_id", "Buyer ID", INT),
        Column("buyer_phone", "Buyer phone"),
        Column("buyer_name", "Buyer name"),
        Column("seller_id", "Seller ID", INT),
        Column("seller_phone", "Seller phone"),
        Column("seller_name", "Seller name"),
        Column("units", "Units", INT),
        Column("price_per_unit", "Price per unit", MONEY),
        Column("amount", "Trade value", MONEY),
        Column("buyer_fee", "Buyer fee", MONEY),
        Column("seller_fee", "Seller fee", MONEY),
        Column("buyer_total", "Buyer paid", MONEY),
        Column("seller_net", "Seller received", MONEY),
        Column("seller_average_price", "Seller average price per unit", MONEY),
        Column("seller_cost", "Seller cost of units sold", MONEY),
        Column("seller_gain", "Seller gain/loss (net of fee)", MONEY),
        Column("bid_id", "Bid ID", INT),
    )

    def columns(self, filters):
        return self.COLUMNS

    def rows(self, filters):
        trades = Trade.objects.filter(**datetime_range(filters, "created_at"))
        for field in ("offering", "buyer", "seller"):
            if filters.get(field):
                trades = trades.filter(**{f"{field}_id": filters[field]})
        if filters.get("listing_kind"):
            trades = trades.filter(listing__kind=filters["listing_kind"])
        secondary = Q(listing__kind=ListingKind.SECONDARY)
        return trades.order_by("created_at", "id").values(
            "units", "price_per_unit", "amount", "buyer_fee", "seller_fee", "bid_id", "offering_id", "buyer_id",
            "seller_id", trade_id=F("id"), at=F("created_at"), offering_title=F("offering__title"),
            listing_kind=F("listing__kind"), buyer_phone=F("buyer__phone"), buyer_name=F("buyer__name"),
            seller_phone=Coalesce(F("seller__phone"), Value("platform")),
            seller_name=Coalesce(F("seller__name"), Value("Tranche platform")),
            buyer_total=ExpressionWrapper(F("amount") + F("buyer_fee"), output_field=MONEY_FIELD),
            seller_net=ExpressionWrapper(F("amount") - F("seller_fee"), output_field=MONEY_FIELD),
            seller_average_price=Case(When(secondary, then=ExpressionWrapper(
                F("seller_cost_basis") / F("units"), output_field=MONEY_FIELD))),
            seller_cost=Case(When(secondary, then=F("seller_cost_basis"))),
            seller_gain=Case(When(secondary, then=ExpressionWrapper(
                F("amount") - F("seller_fee") - F("seller_cost_basis"), output_field=MONEY_FIELD))),
        )


# --- trading-activity --------------------------------------------------------------------------

class ActivityFilter(DateRangeFilter):
    group = serializers.ChoiceField(choices=["day", "offering", "day_offering"], default="day_offering")
    offering = serializers.IntegerField(required=False)


@register
class TradingActivityReport(Report):
    """Volume (units), value, fees, trades and unique traders, by day and/or offering.
    Unique traders counts distinct investors on either side (the platform is not one):
    distinct buyers + distinct sellers − buyers who also sold in the same group."""

    name = "trading-activity"
    title = "Trading activity"
    description = "Volume, value, trades and unique traders by day and offering."
    FilterSerializer = ActivityFilter
    has_chart = True

    KEYS = {"day": ("day",), "offering": ("offering_id", "offering_title"),
            "day_offering": ("day", "offering_id", "offering_title")}
    HEAD = {"day": Column("day", "Date", DATE), "offering_id": Column("offering_id", "Offering ID", INT),
            "offering_title": Column("offering_title", "Offering", TEXT)}
    FIGURES = (
        Column("trades", "Trades", INT),
        Column("units", "Units traded", INT),
        Column("value", "Value traded", MONEY),
        Column("fees", "Fees", MONEY),
        Column("unique_buyers", "Unique buyers", INT),
        Column("unique_sellers", "Unique sellers (investors)", INT),
        Column("unique_traders", "Unique traders", INT),
    )

    def columns(self, filters):
        return tuple(self.HEAD[key] for key in self.KEYS[filters.get("group", "day_offering")]) + self.FIGURES

    def rows(self, filters):
        group = filters.get("group", "day_offering")
        window = datetime_range(filters, "created_at")
        trades = Trade.objects.filter(**window)
        sold_too = Trade.objects.filter(seller=OuterRef("buyer"), **window)
        if filters.get("offering"):
            trades = trades.filter(offering_id=filters["offering"])
            sold_too = sold_too.filter(offering_id=filters["offering"])
        if "offering" in group:
            sold_too = sold_too.filter(offering_id=OuterRef("offering_id"))
        if "day" in group:
            sold_too = sold_too.annotate(trade_day=TruncDate("created_at")).filter(
                trade_day=OuterRef("day"))
        keys = self.KEYS[group]
        grouped = (trades.annotate(day=TruncDate("created_at"), offering_title=F("offering__title"))
                   .order_by().values(*keys))
        return grouped.annotate(
            trades=Count("id"),
            units=Sum("units"),
            value=Sum("amount"),
            fees=Sum(F("buyer_fee") + F("seller_fee"), output_field=MONEY_FIELD),
            unique_buyers=Count("buyer", distinct=True),
            unique_sellers=Count("seller", distinct=True),
            both_sides=Count("buyer", distinct=True, filter=Q(Exists(sold_too))),
        ).annotate(
            unique_traders=F("unique_buyers") + F("unique_sellers") - F("both_sides"),
        ).order_by(*keys)

    def chart_png(self, filters) -> bytes:
        from reports.rendering import bar_line_chart

        rows = list(self.rows({**filters, "group": "day"}))
        return bar_line_chart(
            title="Trading activity by day",
            x=[row["day"] for row in rows],
            bars=[row["value"] for row in rows], bar_label="Value traded (₹)",
            line=[row["trades"] for row in rows], line_label="Trades",
        )


# --- bids --------------------------------------------------------------------------------------

class BidsFilter(DateRangeFilter):
    status = serializers.ChoiceField(choices=BidStatus.choices, required=False)
    offering = serializers.IntegerField(required=False)
    bidder = serializers.IntegerField(required=False)
    seller = serializers.IntegerField(required=False)


@register
class BidsReport(Report):
    """Every bid placed in the period with its outcome (its status now) and how long the
    outcome took (placed → accepted in full, withdrawn, rejected, expired or closed with the
    listing). A bid still open, or only partly accepted, has no outcome time yet."""

    name = "bids"
    title = "Bids"
    description = "Bids with outcome and time to outcome."
    FilterSerializer = BidsFilter

    COLUMNS = (
        Column("bid_id", "Bid ID", INT),
        Column("placed_at", "Placed at", DATETIME),
        Column("listing_id", "Listing ID", INT),
        Column("offering_id", "Offering ID", INT),
        Column("offering_title", "Offering"),
        Column("bidder_id", "Bidder ID", INT),
        Column("bidder_phone", "Bidder phone"),
        Column("seller_id", "Seller ID", INT),
        Column("seller_phone", "Seller phone"),
        Column("units_filled", "Units bought", INT),
        Column("units_open", "Units still wanted", INT),
        Column("price_per_unit", "Bid price per unit", MONEY),
        Column("ask_price", "Ask price per unit", MONEY),
        Column("held_amount", "Held now", MONEY),
        Column("outcome", "Outcome"),
        Column("outcome_at", "Outcome at", DATETIME),
        Column("time_to_outcome", "Hours to outcome", HOURS),
    )

    def columns(self, filters):
        return self.COLUMNS

    def rows(self, filters):
        bids = Bid.objects.filter(**datetime_range(filters, "created_at"))
        if filters.get("status"):
            bids = bids.filter(status=filters["status"])
        if filters.get("offering"):
            bids = bids.filter(listing__offering_id=filters["offering"])
        for party in ("bidder", "seller"):
            if filters.get(party):
                bids = bids.filter(**{f"{party}_id": filters[party]})
        return bids.order_by("created_at", "id").values(
            "listing_id", "bidder_id", "seller_id", "units_filled", "price_per_unit", "held_amount",
            bid_id=F("id"), placed_at=F("created_at"), offering_id=F("listing__offering_id"),
            offering_title=F("listing__offering__title"), bidder_phone=F("bidder__phone"),
            seller_phone=F("seller__phone"), ask_price=F("listing__price_per_unit"), outcome=F("status"),
            outcome_at=F("closed_at"),
            units_open=Case(When(status__in=ACTIVE_STATUSES, then=F("units")), default=Value(0)),
            time_to_outcome=ExpressionWrapper(F("closed_at") - F("created_at"), output_field=DurationField()),
        )


# --- tds ---------------------------------------------------------------------------------------

QUARTERS = {"Q1": ((4, 1), (6, 30)), "Q2": ((7, 1), (9, 30)), "Q3": ((10, 1), (12, 31)), "Q4": ((1, 1), (3, 31))}
NO_PAN = "PANNOTAVBL"  # what Form 26Q takes in place of a missing or inoperative PAN


class TdsFilter(DateRangeFilter):
    financial_year = serializers.RegexField(r"^[0-9]{4}-[0-9]{2}$", required=False, help_text="e.g. 2026-27")
    quarter = serializers.ChoiceField(choices=list(QUARTERS), required=False)
    section = serializers.CharField(required=False, max_length=32)
    user = serializers.IntegerField(required=False)

    def validate(self, attrs):
        import datetime as dt

        attrs = super().validate(attrs)
        if attrs.get("quarter"):
            if not attrs.get("financial_year"):
                raise serializers.ValidationError({"financial_year": "A quarter needs its financial year."})
            first_year = int(attrs["financial_year"][:4])
            (start_month, start_day), (end_month, end_day) = QUARTERS[attrs["quarter"]]
            year = first_year + 1 if attrs["quarter"] == "Q4" else first_year
            attrs["from"] = dt.date(year, start_month, start_day)
            attrs["to"] = dt.date(year, end_month, end_day)
        return attrs


@register
class TdsReport(Report):
    """Every TDS deduction (and every Form 15G/15H line with nothing withheld), in the Form 26Q
    deductee annexure's columns. Remark codes: `B` no deduction on a 15G/15H declaration
    (s. 197A); `C` higher rate because the PAN is missing or inoperative (s. 206AA, PAN shown
    as PANNOTAVBL); empty for an ordinary deduction. Interest below the yearly threshold has
    no row of its own: nothing was withheld on it then, and the credit that crosses the
    threshold deducts on the whole year's interest so far (its `gross`), so listing the
    earlier lines too would count them twice. Filter by `financial_year` + `quarter`."""

    name = "tds"
    title = "TDS (Form 26Q)"
    description = "TDS deductions by quarter with the Form 26Q deductee columns."
    FilterSerializer = TdsFilter

    COLUMNS = (
        Column("deduction_id", "Deductee reference", INT),
        Column("user_id", "User ID", INT),
        Column("pan", "PAN of deductee"),
        Column("deductee_name", "Name of deductee"),
        Column("section", "Section code"),
        Column("paid_on", "Date of payment or credit", DATE),
        Column("gross", "Amount paid or credited", MONEY),
        Column("tds", "Tax deducted", MONEY),
        Column("rate", "Rate of deduction", RATE),
        Column("deducted_on", "Date of deduction", DATE),
        Column("remark", "Remark code"),
        Column("financial_year", "Financial year"),
        Column("net", "Net credited", MONEY),
    )

    def columns(self, filters):
        return self.COLUMNS

    def rows(self, filters):
        deductions = TDSDeduction.objects.all()
        if filters.get("from"):
            deductions = deductions.filter(deducted_on__gte=filters["from"])
        if filters.get("to"):
            deductions = deductions.filter(deducted_on__lte=filters["to"])
        if filters.get("financial_year"):
            deductions = deductions.filter(financial_year=filters["financial_year"])
        if filters.get("section"):
            deductions = deductions.filter(section=filters["section"])
        if filters.get("user"):
            deductions = deductions.filter(user_id=filters["user"])
        return deductions.order_by("deducted_on", "id").values(
            "user_id", "section", "gross", "tds", "rate", "financial_year", "net",
            deduction_id=F("id"),
            pan=Case(When(pan_valid=False, then=Value(NO_PAN)), default=F("user__kyc_profile__pan"),
                     output_field=CharField()),
            deductee_name=Coalesce(NullIf(F("user__kyc_profile__company_name"), Value("")),
                                   F("user__kyc_profile__full_name"), F("user__name")),
            # Every source credits the income and deducts its tax on the same day (tax.services).
            paid_on=F("deducted_on"),
            deducted_on_date=F("deducted_on"),
            remark=Case(When(reason=DeductionReason.DECLARATION, then=Value("B")),
                        When(pan_valid=False, then=Value("C")), default=Value("")),
        )

    def prepare(self, row):
        row = dict(row)
        # A declaration means nothing was deducted: 26Q leaves the deduction date empty.
        row["deducted_on"] = None if row["remark"] == "B" else row.pop("deducted_on_date", None)
        if row["pan"] not in (None, NO_PAN):
            row["pan"] = decrypt_pan(row["pan"])
        return row


def decrypt_pan(stored: str) -> str:
    from core.crypto import decrypt

    return decrypt(stored)
