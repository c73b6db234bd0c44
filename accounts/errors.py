from core.errors import DomainError, PermissionDenied


class OtpInvalid(DomainError):
    status_code = 400
    code = "otp_invalid"
    default_detail = "The code is not correct."


class OtpExpired(DomainError):
    status_code = 400
    code = "otp_expired"
    default_detail = "The code has expired. Request a new one."


class OtpLocked(DomainError):
    status_code = 403
    code = "otp_locked"
    default_detail = "Too many wrong codes. Request a new code."


class TotpRequired(DomainError):
    status_code = 401
    code = "totp_required"
    default_detail = "Staff accounts must also give the code from their authenticator app (totp)."


class TotpInvalid(DomainError):
    status_code = 400
    code = "totp_invalid"
    default_detail = "The authenticator code is not correct."


class AccountDisabled(PermissionDenied):
    code = "account_disabled"
    default_detail = "This account is disabled."


class SmsFailed(DomainError):
    status_code = 503
    code = "sms_unavailable"
    default_detail = "The code could not be sent. Try again shortly."


class CannotChangeOwnRole(PermissionDenied):
    code = "cannot_change_own_account"
    default_detail = "You cannot change your own role or deactivate yourself."


class StaffRoleChangeForbidden(PermissionDenied):
    code = "staff_role_forbidden"
    default_detail = "Only a super admin may grant a staff role or change a staff user."


class ImpersonationForbidden(PermissionDenied):
    code = "impersonation_forbidden"
    default_detail = "This user cannot be impersonated."


class StaffAlreadyExists(DomainError):
    status_code = 409
    code = "staff_exists"
    default_detail = "This phone already belongs to a staff user."


class UserNotStaff(DomainError):
    status_code = 409
    code = "user_not_staff"
    default_detail = "This phone belongs to a user who is not staff."
