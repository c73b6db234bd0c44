"""The fill as one call of the PostgreSQL function `trading_settle()`: the locks, the checks,
the entry (through `wallet_post_entry()`), the unit moves and the outbox messages in one
round trip. A refusal comes back as an outcome (worded by `rules.check_fill`) or is raised
(insufficient funds, a short hold, the onboarding gate) and mapped to the same errors as
the ORM path.
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection

from core import context
from core.errors import NotFound
from core.outbox import OutboxMessage, handler_names, outbox_written
from kyc.permissions import raise_for_gate_refusal
from kyc.selectors import trader_gate_sql
from trading.enums import ListingKind, ListingStatus, OfferingStatus, UnitTransferKind
from trading.models import Listing, Offering, Trade
from trading.settlement.rules import (
    BID_ENTRY_KIND,
    BUY_ENTRY_KIND,
    LISTING_CHANGED_TOPIC,
    LISTING_CLOSED_TOPIC,
    TRADABLE,
    TRADE_TOPIC,
    Fill,
    check_fill,
    entry_reference,
)
from wallet.enums import AccountKind
from wallet.services import WalletAccounts, wallet_system_account

# `trading_settle()`'s result: what it returns after `outcome` and the offering's status.
_LISTING_COLUMNS = ("id", "offering_id", "kind", "seller_id", "seller_holding_id", "units_offered", "units_remaining",
                    "price_per_unit", "min_units", "opens_at", "closes_at", "status", "xirr", "xirr_as_of",
                    "created_at", "closed_at")
_SETTLE_SQL = (  # {buyer}: the buyer's id, as a parameter or through the onboarding gate
    "SELECT * FROM trading_settle(%s::bigint, {buyer}, %s::integer, %s::numeric, %s::timestamptz, "
    "%s::varchar[], %s::varchar, %s::varchar, %s::varchar, %s::varchar, %s::varchar, %s::varchar, %s::varchar, "
    "%s::integer, %s::integer, %s::bigint, %s::varchar, %s::bigint, %s::bigint, %s::bigint, %s::varchar, "
    "%s::varchar, %s::bigint, %s::inet, %s::varchar, %s::varchar, %s::varchar[], %s::varchar[], %s::varchar[])"
)
REFUSED_IN_DATABASE = "TRD01"  # trading_settle's SQLSTATE for a refusal it raises


def settle_in_database(*, listing_id: int, buyer, units: int, price_per_unit: Decimal | None,
                        pay_from_hold_reference: str | None, bid_id: int | None, now,
                        accounts: WalletAccounts | None = None) -> Fill:
    """One call of `trading_settle()` (see its migration), then the same errors as the ORM
    path: a refused fill is put to `_check_fill`, so each rule is worded in one place. Runs
    in the caller's transaction, or outside any as one statement that commits alone.

    Given the buyer's `accounts`, the statement also meets the onboarding gate: the buyer's
    id reaches `trading_settle()` through `kyc_trader()`, whose refusal becomes `KycRequired`
    or `BankAccountRequired`. Without them the caller has met the gate, and the wallet is
    opened here."""
    from wallet.services import wallet_open

    if accounts is None:
        buyer_sql, buyer_params = "%s::bigint", [buyer.pk]
        accounts = wallet_open(user=buyer)
    else:
        buyer_sql, buyer_params = trader_gate_sql(user=buyer)
    sql = _SETTLE_SQL.format(buyer=buyer_sql)
    request = context.current()
    params = [
        listing_id, *buyer_params, units, price_per_unit, now, list(TRADABLE), ListingStatus.OPEN, ListingStatus.FILLED,
        ListingKind.PRIMARY, OfferingStatus.POSTED, OfferingStatus.SOLD_OUT, UnitTransferKind.TRADE,
        AccountKind.AVAILABLE, settings.BUYER_FEE_BPS, settings.SELLER_FEE_BPS,
        (accounts.held if pay_from_hold_reference else accounts.available).pk, pay_from_hold_reference,
        wallet_system_account(AccountKind.FEES).pk, wallet_system_account(AccountKind.PLATFORM_PROCEEDS).pk,
        bid_id, BID_ENTRY_KIND if pay_from_hold_reference else BUY_ENTRY_KIND,
        entry_reference(listing_id=listing_id, hold_reference=pay_from_hold_reference),
        request.impersonator_id, request.ip, request.request_id,
        OutboxMessage.Status.PENDING, handler_names(TRADE_TOPIC), handler_names(LISTING_CLOSED_TOPIC),
        handler_names(LISTING_CHANGED_TOPIC),
    ]
    row = call_settle(sql, params, reference=pay_from_hold_reference)
    if row[0] == "no_payee_wallet":  # the seller's accounts were never opened: open them, go again
        wallet_open(user=get_user_model().objects.get(pk=row[2 + _LISTING_COLUMNS.index("seller_id")]))
        row = call_settle(sql, params, reference=pay_from_hold_reference)
    outcome, offering_status = row[:2]
    width = len(_LISTING_COLUMNS)
    trade_id, entry_id, amount, buyer_fee, seller_fee, sold_cost = row[2 + width:]
    if outcome == "not_found":
        raise NotFound("No such listing.")
    values = dict(zip(_LISTING_COLUMNS, row[2:2 + width], strict=True))
    listing = Listing.from_db(connection.alias, None,
                              [values[field.attname] for field in Listing._meta.concrete_fields])
    listing.offering = Offering.from_db(connection.alias, ["id", "status"], [listing.offering_id, offering_status])
    if outcome == "refused":
        check_fill(listing, buyer=buyer, units=units, now=now)
        raise RuntimeError(f"trading_settle refused a fill of listing {listing_id} that _check_fill allows.")
    if outcome != "ok":
        raise RuntimeError(f"trading_settle answered {outcome!r}.")
    outbox_written()
    trade = Trade(
        pk=trade_id, listing=listing, offering_id=listing.offering_id, buyer=buyer, seller_id=listing.seller_id,
        units=units, price_per_unit=listing.price_per_unit if price_per_unit is None else price_per_unit,
        amount=amount, buyer_fee=buyer_fee, seller_fee=seller_fee, seller_cost_basis=sold_cost,
        journal_entry_id=entry_id, bid_id=bid_id, created_at=now,
    )
    trade._state.adding = False
    trade._state.db = connection.alias
    return Fill(trade=trade, listing=listing)


def call_settle(sql: str, params: list, *, reference: str | None) -> tuple:
    """Run `trading_settle()`; its raised refusals become the gate's and the wallet's errors."""
    from wallet.services import hold_exceeded, insufficient_funds

    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()
    except DatabaseError as error:
        raise_for_gate_refusal(error)
        cause = error.__cause__
        if getattr(cause, "sqlstate", None) != REFUSED_IN_DATABASE:
            raise
        figures = cause.diag.message_detail.split(" ")
        if cause.diag.message_primary == "hold_exceeded":
            held, total = (Decimal(figure) for figure in figures)
            raise hold_exceeded(held=held, reference=reference, total=total) from None
        kind, balance, after = figures
        raise insufficient_funds(kind=kind, balance=Decimal(balance), after=Decimal(after)) from None
