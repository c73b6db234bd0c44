"""The fill through the ORM: what SQLite (the embedded default) runs, and what the tests run
on PostgreSQL beside the database function (the `writers` fixture). The rules are
`rules.py`'s; the money moves through `wallet.services` (the ledger's only writer).

Lock order: the caller has locked the listing (and, for a bid, the bid); here the two
holdings by id, then the ledger accounts inside the wallet's posting.
"""

from decimal import Decimal

from django.conf import settings
from django.db.models import F, Q

from trading.enums import ListingKind, UnitTransferKind
from trading.models import Holding, Listing, Trade, UnitTransfer
from trading.services.offerings import offering_mark_sold_out_if_done
from trading.settlement.rules import (
    BID_ENTRY_KIND,
    BUY_ENTRY_KIND,
    Fill,
    check_fill,
    entry_reference,
    fill_figures,
    listing_after_fill,
    sold_cost,
)
from wallet.enums import AccountKind
from wallet.services import wallet_pay_from_hold, wallet_system_account, wallet_transfer


def payee_for(listing: Listing):
    if listing.kind == ListingKind.PRIMARY:
        return wallet_system_account(AccountKind.PLATFORM_PROCEEDS)
    return listing.seller


def settle_with_orm(*, listing: Listing, buyer, units: int, price_per_unit: Decimal,
                     pay_from_hold_reference: str | None, bid_id: int | None, now) -> Fill:
    check_fill(listing, buyer=buyer, units=units, now=now)
    offering_id = listing.offering_id
    seller_holding, buyer_holding = lock_holdings(seller_holding_id=listing.seller_holding_id, buyer=buyer,
                                                  offering_id=offering_id)

    figures = fill_figures(listing_kind=listing.kind, price_per_unit=price_per_unit, units=units,
                           buyer_fee_bps=settings.BUYER_FEE_BPS, seller_fee_bps=settings.SELLER_FEE_BPS)
    amount, buyer_fee, seller_fee = figures.amount, figures.buyer_fee, figures.seller_fee
    memo = f"{units} units of offering {offering_id}"
    reference = entry_reference(listing_id=listing.pk, hold_reference=pay_from_hold_reference)
    if pay_from_hold_reference:
        entry = wallet_pay_from_hold(payer=buyer, payee=payee_for(listing), amount=amount, fee=buyer_fee,
                                     payee_fee=seller_fee, reference=reference, kind=BID_ENTRY_KIND,
                                     created_by=buyer, memo=memo)
    else:
        entry = wallet_transfer(payer=buyer, payee=payee_for(listing), amount=amount, fee=buyer_fee,
                                payee_fee=seller_fee, reference=reference, kind=BUY_ENTRY_KIND,
                                created_by=buyer, memo=memo)

    cost = sold_cost(holding_units=seller_holding.units, holding_cost=seller_holding.cost_basis, units=units)
    listing_after_fill(listing, units=units, now=now)
    trade = Trade(
        listing=listing, offering_id=offering_id, buyer=buyer, seller_id=listing.seller_id, units=units,
        price_per_unit=price_per_unit, amount=amount, buyer_fee=buyer_fee, seller_fee=seller_fee,
        seller_cost_basis=cost, journal_entry=entry, bid_id=bid_id, created_at=now,
    )
    Holding.objects.filter(pk=seller_holding.pk).update(
        units=F("units") - units, units_listed=F("units_listed") - units,
        cost_basis=F("cost_basis") - cost, updated_at=now)
    Holding.objects.filter(pk=buyer_holding.pk).update(
        units=F("units") + units, cost_basis=F("cost_basis") + amount, updated_at=now)
    Listing.objects.filter(pk=listing.pk).update(units_remaining=listing.units_remaining, status=listing.status,
                                                 closed_at=listing.closed_at)
    trade.save(force_insert=True)
    UnitTransfer.objects.create(offering_id=offering_id, from_holding_id=seller_holding.pk,
                                to_holding_id=buyer_holding.pk, units=units, kind=UnitTransferKind.TRADE,
                                trade=trade, created_at=now)
    if listing.kind == ListingKind.PRIMARY and listing.units_remaining == 0:
        offering_mark_sold_out_if_done(offering_id=offering_id)
    return Fill(trade=trade, listing=listing)


def lock_holdings(*, seller_holding_id: int, buyer, offering_id: int) -> tuple[Holding, Holding]:
    """Lock the seller's holding and the buyer's (creating it on a first buy) in id order. A
    row this transaction has just inserted cannot be locked by anyone else, so creating the
    buyer's after locking the seller's keeps the order; a concurrent twin insert waits on the
    unique index, then inserts nothing (`ignore_conflicts`), and theirs is locked instead."""
    holdings = list(Holding.objects.select_for_update(of=("self",))
                    .filter(Q(pk=seller_holding_id) | Q(owner=buyer, offering_id=offering_id)).order_by("pk"))
    seller_holding = next(h for h in holdings if h.pk == seller_holding_id)
    buyer_holding = next((h for h in holdings if h.owner_id == buyer.pk), None)
    if buyer_holding is None:
        Holding.objects.bulk_create([Holding(owner=buyer, offering_id=offering_id)], ignore_conflicts=True)
        buyer_holding = Holding.objects.select_for_update().get(owner=buyer, offering_id=offering_id)
    return seller_holding, buyer_holding
