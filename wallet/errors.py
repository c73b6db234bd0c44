from core.duties import OwnSubmission
from core.errors import Conflict, DomainError, InvalidInput, InvalidState, NotFound


class InsufficientFunds(DomainError):
    code = "insufficient_funds"
    default_detail = "The wallet does not have enough available money for this."


class HoldExceeded(InvalidState):
    code = "hold_exceeded"
    default_detail = "More than is held for this reference was asked to be released or paid."


class DepositNotPending(InvalidState):
    code = "invalid_state"
    default_detail = "The deposit is not waiting for verification."


class CannotVerifyOwnDeposit(OwnSubmission):
    code = "cannot_verify_own_deposit"
    default_detail = "A verifier cannot approve or reject their own deposit."


class ProofRequired(InvalidInput):
    code = "proof_required"
    default_detail = "Offline deposits need a reference and a proof file (PDF, JPEG or PNG, at most 5 MB)."


class ProofInvalid(InvalidInput):
    code = "proof_invalid"
    default_detail = "The proof must be a PDF, JPEG or PNG file of at most 5 MB."


class DuplicateReference(Conflict):
    code = "duplicate_reference"
    default_detail = "This payment reference is already used by another deposit."


class PaymentProviderUnavailable(DomainError):
    status_code = 503
    code = "payment_provider_unavailable"
    default_detail = "The payment provider is not answering. Try again shortly."


class WebhookRejected(InvalidInput):
    """A webhook we refuse: bad signature, stale timestamp, malformed body."""

    code = "webhook_rejected"
    default_detail = "The webhook was refused."


class UnknownProvider(NotFound):
    code = "not_found"
    default_detail = "No such provider is enabled."


class UnknownPayment(NotFound):
    code = "unknown_payment"
    default_detail = "No deposit or withdrawal matches this event."
