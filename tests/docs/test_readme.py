"""README drift: what it says about the demo and how to read the demo's sign-in code is what
the code does."""

import re
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
README = (ROOT / "README.md").read_text()


def test_the_verified_demo_investors_are_counted_as_the_seed_makes_them():
    from core.management.commands.seed_demo_data import Command
    from kyc.demo import verified_count

    parser = Command().create_parser("manage.py", "seed_demo_data")
    default = parser.get_default("investors")
    said = re.search(r"Of the demo's (\d+) investors \(the default of `seed_demo_data`\), the first (\d+) are KYC- and"
                     r"\s+bank-verified, the (\d+)th waits in the review queue", README)
    assert said, "README no longer says how many demo investors are verified"
    investors, verified, in_review = map(int, said.groups())
    assert investors == default
    assert verified == verified_count(default)
    assert in_review == verified + 1


@pytest.mark.django_db
def test_the_readmes_way_to_read_the_demo_sign_in_code_works():
    """README step 1 says `manage.py sms_outbox --to PHONE` prints the code the console SMS
    adapter sent (no adapter writes a code to the log any more)."""
    import io

    from django.core.management import call_command

    from integrations.sms import ConsoleSms

    shown = re.search(r"`python manage.py sms_outbox --to (\+\d+)`", README)
    assert shown, "README no longer says how to read the sign-in code"
    ConsoleSms().send(to=shown.group(1), body="482913 is your Tranche sign-in code. It expires in 5 minutes.")
    out = io.StringIO()
    call_command("sms_outbox", "--to", shown.group(1), stdout=out)
    assert "482913" in out.getvalue()
