"""Demo users: one staff user per role and a few investors."""

import hashlib

from accounts.enums import STAFF_ROLES, Role
from accounts.models import User
from accounts.services import staff_create

DEMO_PASSWORD = "tranche-demo-2026"  # noqa: S105 (demo data only; the command refuses DEBUG off)


def seed(world) -> None:
    for number, role in enumerate(sorted(STAFF_ROLES), start=1):
        phone = f"+9190000000{number:02d}"
        # Deterministic per seed so a re-run keeps the authenticator codes working.
        key = hashlib.sha1(f"demo-{world.rng.random()}-{phone}".encode()).hexdigest()  # noqa: S324
        created = staff_create(phone=phone, role=role, name=f"Demo {role.replace('_', ' ').title()}",
                               password=DEMO_PASSWORD, totp_key=key)
        world.users[role] = created.user
        world.summary.append({"role": role, "phone": phone, "admin_password": DEMO_PASSWORD,
                              "totp_secret": created.totp_secret})
    world.progress(f"{len(STAFF_ROLES)} staff users")

    investors = []
    for number in range(1, world.investors + 1):
        phone = f"+9191000000{number:02d}"
        user, _ = User.objects.get_or_create(phone=phone, defaults={"name": f"Demo Investor {number}",
                                                                    "role": Role.INVESTOR})
        investors.append(user)
    world.users["investors"] = investors
    for user in investors[:2]:
        world.summary.append({"role": "investor", "phone": user.phone})
    world.progress(f"{len(investors)} investors")
