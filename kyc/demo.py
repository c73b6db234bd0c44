"""Demo KYC: all investors but the last two (at least three) are verified with a verified
primary bank account, the next one waits in the staff review queue (sandbox PAN digits
8888) and any left have not started. Through the services, on the sandbox adapters (nothing
leaves the machine)."""

from datetime import date

from django.test import override_settings

from kyc import services
from kyc.enums import KYCKind

VERIFIED_INVESTORS = 3


def _pan(serial: str) -> str:
    return f"ABCPI{serial}{chr(ord('A') + sum(map(int, serial)) % 26)}"


def verified_count(investors: int) -> int:
    """How many investors the demo verifies: all but the last two, at least three."""
    return min(investors, max(VERIFIED_INVESTORS, investors - 2))


def seed(world) -> None:
    investors = world.users.get("investors", [])
    verified = verified_count(len(investors))
    with override_settings(KYC_PROVIDER="sandbox", BANK_PROVIDER="sandbox"):
        for number, user in enumerate(investors[:verified], start=1):
            name = user.name or f"Demo Investor {number}"
            profile = services.kyc_submit(
                user=user, kind=KYCKind.INDIVIDUAL, full_name=name, pan=_pan(f"{1000 + number}"),
                date_of_birth=date(1985 + number, 1 + number % 12, 10), address=f"{number} MG Road, Bengaluru 560001",
            )
            services.kyc_verify(profile_id=profile.pk)
            account = services.bank_account_add(user=user, account_number=f"5010{number:08d}7", ifsc="HDFC0001234",
                                                holder_name=name)
            services.bank_account_verify(bank_account_id=account.pk)
        if len(investors) > verified:
            user = investors[verified]
            profile = services.kyc_submit(
                user=user, kind=KYCKind.INDIVIDUAL, full_name=user.name or "Demo Investor", pan=_pan("8888"),
                date_of_birth=date(1992, 5, 17), address="7 Park Street, Kolkata 700016",
            )
            services.kyc_verify(profile_id=profile.pk)  # the sandbox sends 8888 to manual review
    world.progress(f"{verified} investors KYC- and bank-verified, {int(len(investors) > verified)} in review")
