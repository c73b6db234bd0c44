from core.errors import Conflict, DomainError, InvalidState


class BidNotOpen(InvalidState):
    code = "bid_not_open"
    default_detail = "The bid is no longer open."


class ListingNotBiddable(DomainError):
    code = "listing_not_biddable"
    default_detail = "The platform's own listings take no bids; buy at the listed price instead."


class BidAlreadyOpen(Conflict):
    code = "bid_already_open"
    default_detail = "You already have an open bid on this listing; modify it instead."
