"""Reads of bids, scoped to the caller: a bid is visible to its bidder and to the listing's
seller, and is a 404 for anyone else. Lists cost a fixed number of queries."""

from django.db.models import Q, QuerySet

from bidding.enums import BidSide
from bidding.models import Bid, BidEvent
from core.errors import NotFound


def bid_list_for_user(*, user, side: str = BidSide.PLACED, status: str | None = None,
                      listing_id: int | None = None) -> QuerySet[Bid]:
    bids = Bid.objects.filter(seller=user) if side == BidSide.RECEIVED else Bid.objects.filter(bidder=user)
    if status:
        bids = bids.filter(status=status)
    if listing_id:
        bids = bids.filter(listing_id=listing_id)
    return bids.select_related("listing").order_by("-id")


def bid_get_for_user(*, user, bid_id: int) -> Bid:
    bid = Bid.objects.select_related("listing").filter(Q(bidder=user) | Q(seller=user), pk=bid_id).first()
    if bid is None:
        raise NotFound("No such bid.")
    return bid


def bid_history(*, bid: Bid) -> QuerySet[BidEvent]:
    """A bid's events, oldest first (the caller has already been allowed to see the bid)."""
    return BidEvent.objects.filter(bid=bid).order_by("id")
