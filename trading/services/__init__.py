"""Every write of trading, by subdomain; import from here.

- offerings: cut a financed invoice into units (`offering_fractionalize`), and every change
  of an offering's status (`offering_mark_*`) and schedule rows
- listings: post, cancel, close an offering's, expire
- the fill (buy, accepted bid) is `trading.settlement` (re-exported here)
"""

from trading.services.listings import (
    listing_cancel,
    listing_cancel_by_staff,
    listing_close_for_offering,
    listing_expire_due,
    listing_post_primary,
    listing_post_secondary,
    listing_xirr,
)
from trading.services.offerings import (
    offering_cash_flows_mark_paid,
    offering_configure,
    offering_days_past_due_set,
    offering_fractionalize,
    offering_mark_defaulted,
    offering_mark_matured,
    offering_mark_posted,
    offering_mark_sold_out_if_done,
)
from trading.settlement import listing_buy, settle_locked_listing

__all__ = [
    "listing_buy", "listing_cancel", "listing_cancel_by_staff", "listing_close_for_offering", "listing_expire_due",
    "listing_post_primary", "listing_post_secondary", "listing_xirr", "offering_cash_flows_mark_paid",
    "offering_configure", "offering_days_past_due_set", "offering_fractionalize", "offering_mark_defaulted",
    "offering_mark_matured", "offering_mark_posted", "offering_mark_sold_out_if_done",
    "settle_locked_listing",
]
