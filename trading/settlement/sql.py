"""The fill as one call of the PostgreSQL function `trading_settle()` (`settle.sql`): the locks,
the checks, the entry (through `wallet_post_entry()`), the unit moves and the outbox messages
in one round trip. Called with named arguments; the listing comes back as the table's own
row type, read here column by column from `Listing._meta`, so a field added to `Listing`
needs no change in either file. A refusal comes back as an outcome (worded by
`rules.check_fill`) or is raised (insufficient funds, a short hold, the onboarding gate) and
mapped to the same errors as the ORM path.
"""

import functools
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError, connection

from core import context
from core.errors import NotFound
from core.outbox import OutboxMessage, handler_names, outbox_written
from kyc.gate import GATE_PARAMS, raise_for_gate_refusal, trader_gate_sql
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
from wallet.services import wallet_open, wallet_system_account

REFUSED_IN_DATABASE = "TRD01"  # trading_settle's SQLSTATE for a refusal it raises
TRADE_FIGURES = ("trade_id", "entry_id", "amount", "buyer_fee", "seller_fee", "seller_cost_basis")

# The function's arguments, each a named placeholder with its type; `p_buyer` is the buyer's id
# or, for a buy, the onboarding gate's expression around it.
ARGUMENTS = {
    "p_listing": "bigint", "p_units": "integer", "p_price": "numeric", "p_now": "timestamptz",
    "p_tradable": "varchar[]", "p_open": "varchar", "p_filled": "varchar", "p_primary": "varchar",
    "p_posted": "varchar", "p_sold_out": "varchar", "p_unit_transfer_kind": "varchar",
    "p_available": "varchar", "p_pay_kind": "varchar", "p_hold_reference": "varchar",
    "p_buyer_fee_bps": "integer", "p_seller_fee_bps": "integer", "p_fees_account": "bigint",
    "p_proceeds_account": "bigint", "p_bid": "bigint", "p_entry_kind": "varchar", "p_entry_reference": "varchar",
    "p_impersonator": "bigint", "p_ip": "inet", "p_request_id": "varchar", "p_pending": "varchar",
    "p_trade_handlers": "varchar[]", "p_closed_handlers": "varchar[]", "p_changed_handlers": "varchar[]",
}


@functools.cache
def listing_fields() -> tuple:
    return tuple(Listing._meta.concrete_fields)


@functools.cache
def _settle_sql(*, gate: bool) -> str:
    """SELECT the outcome, the offering's status, every column of the listing (from the model)
    and the trade's figures from one named-argument call."""
    quote = connection.ops.quote_name
    buyer = trader_gate_sql(placeholder="%(p_buyer)s") if gate else "%(p_buyer)s::bigint"
    arguments = ", ".join([f"p_buyer => {buyer}", *(f"{name} => %({name})s::{kind}"
                                                      for name, kind in ARGUMENTS.items())])
    columns = ", ".join(["settled.outcome", "settled.offering_status",
                         *(f"(settled.listing).{quote(field.column)}" for field in listing_fields()),
                         *(f"settled.{name}" for name in TRADE_FIGURES)])
    return f"SELECT {columns} FROM trading_settle({arguments}) AS settled"  # noqa: S608


def settle_in_database(*, listing_id: int, buyer, units: int, price_per_unit: Decimal | None,
                       pay_from_hold_reference: str | None, bid_id: int | None, now, gate: bool) -> Fill:
    """One call of `trading_settle()`, then the same errors as the ORM path: a refused fill is
    put to `check_fill`, so each rule is worded in one place. Runs in the caller's
    transaction, or outside any as one statement that commits alone.

    `gate`: the buyer's id reaches the function through the onboarding gate (`kyc_trader()`),
    whose refusal becomes `KycRequired` or `BankAccountRequired` (a buy); without it the
    caller vouches for the buyer (a bid's fill: its placing met the gate). A wallet that was
    never opened (the buyer's, or a reselling seller's) comes back as an outcome: it is
    opened here and the call made again, so a buyer the gate refuses never gets one."""
    request = context.current()
    params = {
        "p_listing": listing_id, "p_buyer": buyer.pk, "p_units": units, "p_price": price_per_unit, "p_now": now,
        "p_tradable": list(TRADABLE), "p_open": ListingStatus.OPEN, "p_filled": ListingStatus.FILLED,
        "p_primary": ListingKind.PRIMARY, "p_posted": OfferingStatus.POSTED, "p_sold_out": OfferingStatus.SOLD_OUT,
        "p_unit_transfer_kind": UnitTransferKind.TRADE, "p_available": AccountKind.AVAILABLE,
        "p_pay_kind": AccountKind.HELD if pay_from_hold_reference else AccountKind.AVAILABLE,
        "p_hold_reference": pay_from_hold_reference,
        "p_buyer_fee_bps": settings.BUYER_FEE_BPS, "p_seller_fee_bps": settings.SELLER_FEE_BPS,
        "p_fees_account": wallet_system_account(AccountKind.FEES).pk,
        "p_proceeds_account": wallet_system_account(AccountKind.PLATFORM_PROCEEDS).pk,
        "p_bid": bid_id, "p_entry_kind": BID_ENTRY_KIND if pay_from_hold_reference else BUY_ENTRY_KIND,
        "p_entry_reference": entry_reference(listing_id=listing_id, hold_reference=pay_from_hold_reference),
        "p_impersonator": request.impersonator_id, "p_ip": request.ip, "p_request_id": request.request_id,
        "p_pending": OutboxMessage.Status.PENDING, "p_trade_handlers": handler_names(TRADE_TOPIC),
        "p_closed_handlers": handler_names(LISTING_CLOSED_TOPIC),
        "p_changed_handlers": handler_names(LISTING_CHANGED_TOPIC),
    }
    if gate:
        params.update(GATE_PARAMS)
    sql = _settle_sql(gate=gate)
    fields = listing_fields()
    row = call_settle(sql, params, reference=pay_from_hold_reference)
    for _attempt in range(2):  # at most both wallets to open
        if row[0] == "no_buyer_wallet":
            wallet_open(user=buyer)
        elif row[0] == "no_payee_wallet":
            seller_id = row[2 + [field.attname for field in fields].index("seller_id")]
            wallet_open(user=get_user_model().objects.get(pk=seller_id))
        else:
            break
        row = call_settle(sql, params, reference=pay_from_hold_reference)
    outcome, offering_status = row[:2]
    if outcome == "not_found":
        raise NotFound("No such listing.")
    listing = Listing.from_db(connection.alias, None, list(row[2:2 + len(fields)]))
    listing.offering = Offering.from_db(connection.alias, ["id", "status"], [listing.offering_id, offering_status])
    if outcome == "refused":
        check_fill(listing, buyer=buyer, units=units, now=now)
        raise RuntimeError(f"trading_settle refused a fill of listing {listing_id} that check_fill allows.")
    if outcome != "ok":
        raise RuntimeError(f"trading_settle answered {outcome!r}.")
    outbox_written()
    figures = dict(zip(TRADE_FIGURES, row[2 + len(fields):], strict=True))
    trade = Trade(
        pk=figures["trade_id"], listing=listing, offering_id=listing.offering_id, buyer=buyer,
        seller_id=listing.seller_id, units=units,
        price_per_unit=listing.price_per_unit if price_per_unit is None else price_per_unit,
        amount=figures["amount"], buyer_fee=figures["buyer_fee"], seller_fee=figures["seller_fee"],
        seller_cost_basis=figures["seller_cost_basis"], journal_entry_id=figures["entry_id"], bid_id=bid_id,
        created_at=now,
    )
    trade._state.adding = False
    trade._state.db = connection.alias
    return Fill(trade=trade, listing=listing)


def call_settle(sql: str, params: dict, *, reference: str | None) -> tuple:
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
