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


class OfferingStatus(models.TextChoices):
    CONFIGURED = "configured", "Configured"
    POSTED = "posted", "Posted for sale"
    SOLD_OUT = "sold_out", "Sold out"
    MATURED = "matured", "Matured"
    DEFAULTED = "defaulted", "Defaulted"


class ScheduleKind(models.TextChoices):
    BULLET = "bullet", "Bullet (one payment at maturity)"
    EQUAL_PRINCIPAL = "equal_principal", "Equal principal"
    AMORTIZING = "amortizing", "Amortizing (EMI)"
    BALLOON = "balloon", "Balloon"
    INTEREST_ONLY = "interest_only", "Interest only"


class Frequency(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    HALF_YEARLY = "half_yearly", "Half-yearly"
    ANNUAL = "annual", "Annual"
