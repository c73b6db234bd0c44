from core.errors import Conflict, InvalidInput, PermissionDenied


class KycRequired(PermissionDenied):
    code = "kyc_required"
    default_detail = "Complete KYC verification first."


class BankAccountRequired(PermissionDenied):
    code = "bank_account_required"
    default_detail = "Add and verify a bank account first."


class PanAlreadyRegistered(Conflict):
    code = "pan_already_registered"
    default_detail = "This PAN is registered to another account."


class KycAlreadySubmitted(Conflict):
    code = "kyc_already_submitted"
    default_detail = "KYC is already submitted; it can be changed only after a rejection."


class BankAccountExists(Conflict):
    code = "bank_account_exists"
    default_detail = "This bank account is already added."


class BankAccountLimit(Conflict):
    code = "bank_account_limit"
    default_detail = "Too many bank accounts; remove one first."


class DocumentInvalid(InvalidInput):
    code = "document_invalid"
    default_detail = "Upload a PDF, JPEG or PNG file of at most 5 MB."
