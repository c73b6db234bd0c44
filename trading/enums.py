from django.db import models


class ListingStatus(models.TextChoices):
    OPEN = "open", "Open"
    FILLED = "filled", "Filled"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"


class ListingKind(models.TextChoices):
    PRIMARY = "primary", "Primary (platform inventory)"
    SECONDARY = "secondary", "Secondary (an investor's units)"


class UnitTransferKind(models.TextChoices):
    ISSUE = "issue", "Issued to the platform's inventory"
    TRADE = "trade", "Trade"
    RETIRE = "retire", "Retired at maturity"


class SellerKind(models.TextChoices):
    PLATFORM = "platform", "Platform"
    INVESTOR = "investor", "Investor"
