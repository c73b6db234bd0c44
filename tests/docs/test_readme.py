"""README drift: what it says about the demo and the SMS log line is what
the code does."""

import json
import logging
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
def test_the_sms_code_log_line_looks_as_the_readme_shows(caplog):
    from core.logging import RequestIdFilter
    from integrations.sms import ConsoleSms

    shown = re.search(r'^\s*(\{"level": "WARNING", "logger": "integrations.sms".*\})$', README, re.MULTILINE)
    assert shown, "README no longer shows the SMS log line"
    options = dict(settings.LOGGING["formatters"]["json"])
    formatter = options.pop("()").rsplit(".", 1)
    formatter = getattr(__import__(formatter[0], fromlist=[formatter[1]]), formatter[1])(**options)
    with caplog.at_level(logging.WARNING, logger="integrations.sms"):
        ConsoleSms().send(to="+919100000001", body="123456 is your Tranche sign-in code. It expires in 5 minutes.")
    record = next(record for record in caplog.records if record.name == "integrations.sms")
    RequestIdFilter().filter(record)
    real = json.loads(formatter.format(record))
    example = json.loads(shown.group(1))
    assert list(example) == list(real)  # the same fields, in the same order
    assert example["message"] == real["message"]
    assert {key: example[key] for key in ("level", "logger")} == {key: real[key] for key in ("level", "logger")}
