from core.errors import DomainError, InvalidState, PermissionDenied


class InsufficientUnits(DomainError):
    code = "insufficient_units"
    default_detail = "Not enough units."


class ListingClosed(InvalidState):
    code = "listing_closed"
    default_detail = "The listing is not open."


class BelowMinimumUnits(DomainError):
    code = "below_minimum_units"
    default_detail = "Fewer units than the listing's minimum."


class SelfTrade(DomainError):
    code = "self_trade"
    default_detail = "You cannot buy your own units."


class OfferingNotTradable(InvalidState):
    code = "offering_not_tradable"
    default_detail = "The offering is not open for trading."


class TradingNotAllowed(PermissionDenied):
    """The onboarding gate: raised with code `kyc_required` or `bank_account_required`."""
