"""Outbox handlers of bidding (run inside the drain transaction; idempotent)."""

from core.outbox import outbox_handler


@outbox_handler("listing.closed")
def release_bids_when_listing_closes(payload: dict) -> None:
    """A listing was filled, cancelled or expired: close its active bids and release their
    holds. A second delivery finds no active bid and does nothing."""
    from bidding.services import bids_close_for_listing

    bids_close_for_listing(listing_id=payload["listing_id"])
