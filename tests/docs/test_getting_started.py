"""docs/getting-started.md, executed: every line of its `bash` blocks runs, in order, against
the real API (the Django test client) on a seeded demo world, with the shell's own rules for
quotes and `$VARIABLES`. Supported, and all the guide uses: `NAME=value`,
`NAME=$(curl … | jq -r EXPR)`, `curl …` (-X, -H, --json, a URL), `xdg-open URL` (the sandbox
payment page: press Pay), `$(uuidgen)`, `$(date +%F)` and `$(oathtool --totp -b SECRET)`.
The lines that stand for what a person reads off a screen (`OTP=123456  # …`) get the real
code from the SMS outbox.
"""

import base64
import io
import json
import re
import shlex
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP

from tests.accounts.test_otp_sign_in import last_code
from tests.conftest import requires_postgres

GUIDE = Path(settings.BASE_DIR) / "docs" / "getting-started.md"
pytestmark = [requires_postgres, pytest.mark.django_db(transaction=True)]


def bash_lines(text: str) -> list[str]:
    lines = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                lines.append(line)
    return lines


def _totp(secret: str) -> str:
    return f"{TOTP(base64.b32decode(secret + '=' * (-len(secret) % 8))).token():06d}"


def expand(text: str, variables: dict) -> str:
    """`$NAME`, `${NAME}` and the few `$(…)` the guide uses, outside single quotes only."""
    out, quoted, index = [], False, 0
    while index < len(text):
        char = text[index]
        if char == "'" and (index == 0 or text[index - 1] != "\\"):
            quoted = not quoted
        if char == "$" and not quoted:
            if text.startswith("$(", index):
                end = text.index(")", index)
                command = text[index + 2:end].split()
                if command == ["uuidgen"]:
                    out.append(str(uuid.uuid4()))
                elif command == ["date", "+%F"]:
                    out.append(timezone.localdate().isoformat())
                elif command[:3] == ["oathtool", "--totp", "-b"]:
                    out.append(_totp(command[3]))
                else:
                    raise AssertionError(f"unsupported command substitution: {command}")
                index = end + 1
                continue
            match = re.match(r"\$\{?(\w+)\}?", text[index:])
            out.append(variables[match.group(1)])
            index += match.end()
            continue
        out.append(char)
        index += 1
    return "".join(out)


def jq(expression: str, data):
    """The jq the guide uses: `.a.b`, `.a[0]`, and `[.list[] | select(.k=="v")][n].field`."""
    selected = re.fullmatch(r'\[\.(\w+)\[\] \| select\(\.(\w+)=="([^"]*)"\)\]\[(\d+)\]((?:\.\w+)*)', expression)
    if selected:
        items, key, value, position, rest = selected.groups()
        data = [item for item in data[items] if str(item[key]) == value][int(position)]
        expression = rest or "."
    for name, position in re.findall(r"\.(\w+)|\[(\d+)\]", expression):
        data = data[name] if name else data[int(position)]
    return data if isinstance(data, str) else json.dumps(data)


class Shell:
    def __init__(self):
        self.variables: dict[str, str] = {}
        self.client = Client()
        self.responses = []
        self.last_phone = ""

    def curl(self, arguments: list[str]):
        assert arguments[0] == "curl"
        method, headers, body, url = None, {}, None, None
        words = iter(arguments[1:])
        for word in words:
            if word == "-s":
                continue
            if word == "-X":
                method = next(words)
            elif word == "-H":
                name, _, value = next(words).partition(":")
                headers["HTTP_" + name.strip().upper().replace("-", "_")] = value.strip()
            elif word == "--json":
                body = next(words)
                json.loads(body)  # the guide's bodies are valid JSON
            elif word.startswith("http"):
                url = word
            else:
                raise AssertionError(f"unsupported curl argument {word!r}")
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        method = method or ("POST" if body is not None else "GET")
        if body is not None and "/auth/otp/" in path and not path.endswith("verify/"):
            self.last_phone = json.loads(body)["phone"]
        response = self.client.generic(method, path, body or "", content_type="application/json", **headers)
        assert 200 <= response.status_code < 300, f"{method} {path}: {response.status_code} {response.content!r}"
        self.responses.append((method, path, response))
        return response

    def run(self, line: str) -> None:
        assignment = re.fullmatch(r"(\w+)=(.*?)(\s+#.*)?", line)
        if assignment and assignment.group(1) == "OTP":
            self.variables["OTP"] = last_code(self.last_phone)  # what the server's terminal shows
            return
        if assignment and assignment.group(2).startswith("$(curl"):
            inner = assignment.group(2)[2:-1]
            command, _, expression = inner.rpartition(" | jq -r ")
            response = self.curl(shlex.split(expand(command, self.variables)))
            self.variables[assignment.group(1)] = jq(shlex.split(expression)[0], response.json())
            return
        if assignment:
            value = shlex.split(expand(assignment.group(2), self.variables))
            self.variables[assignment.group(1)] = value[0] if value else ""
            return
        words = shlex.split(expand(line, self.variables), comments=True)
        if words[0] == "curl":
            self.curl(words)
        elif words[0] == "xdg-open":
            page = urlsplit(words[1]).path
            assert self.client.get(page).status_code == 200
            paid = self.client.post(page, {"action": "pay"})  # pressing Pay
            assert paid.status_code == 200 and b"Credited" in paid.content
        else:
            raise AssertionError(f"unsupported line in the guide: {line}")


def test_the_getting_started_guide_runs_as_written(assert_reconciled):
    call_command("seed_demo_data", "--force", "--no-progress", "--investors", "5", "--offerings", "3",
                 stdout=io.StringIO())
    lines = bash_lines(GUIDE.read_text(encoding="utf-8"))
    assert len(lines) >= 25
    shell = Shell()
    for line in lines:
        shell.run(line)

    from accounts.models import User
    from bidding.models import Bid
    from servicing.models import DistributionLine
    from trading.models import Holding, Trade

    user = User.objects.get(phone="+919876500001")
    assert shell.variables["BASE"] == "http://127.0.0.1:8000"
    assert Trade.objects.filter(buyer=user, units=2).count() == 1
    assert Holding.objects.get(owner=user, offering_id=int(shell.variables["OFFERING"])).units == 2
    assert Bid.objects.get(bidder=user).status == "open"
    line = DistributionLine.objects.get(user=user)
    assert line.net > 0
    cash_flows = next(r for m, p, r in reversed(shell.responses) if p == "/api/v1/cash-flows/").json()
    assert cash_flows["count"] >= 1
    wallet = shell.responses[-1][2].json()
    assert wallet["held"] == str(Bid.objects.get(bidder=user).held_amount)
    assert_reconciled()
