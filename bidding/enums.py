from django.db import models


class BidStatus(models.TextChoices):
    OPEN = "open", "Open"
    PARTIALLY_ACCEPTED = "partially_accepted", "Partially accepted (the rest is still open)"
    ACCEPTED = "accepted", "Accepted"
    WITHDRAWN = "withdrawn", "Withdrawn by the bidder"
    REJECTED = "rejected", "Rejected by the seller"
    EXPIRED = "expired", "Expired"
    CLOSED = "closed", "Closed (the listing ended)"


# A bid that still wants units and holds money for them.
ACTIVE_STATUSES = (BidStatus.OPEN, BidStatus.PARTIALLY_ACCEPTED)


class BidEventKind(models.TextChoices):
    PLACED = "placed", "Placed"
    EXECUTED_AT_ASK = "executed_at_ask", "Placed at or above the ask: bought at the ask"
    MODIFIED = "modified", "Modified"
    ACCEPTED = "accepted", "Accepted (all or part)"
    WITHDRAWN = "withdrawn", "Withdrawn"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"
    CLOSED = "closed", "Closed because the listing ended"


class BidSide(models.TextChoices):
    PLACED = "placed", "Bids I placed"
    RECEIVED = "received", "Bids on my listings"
