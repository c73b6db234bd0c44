import pytest
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from kyc import selectors
from kyc.enums import BankAccountStatus, KYCStatus
from kyc.permissions import CanTrade
from tests.accounts.factories import UserFactory
from tests.conftest import requires_postgres
from tests.kyc.factories import BankAccountFactory, KYCProfileFactory

pytestmark = pytest.mark.django_db


class TradeProbeApi(APIView):
    permission_classes = (CanTrade,)

    def post(self, request):
        return Response({"ok": True})


def call_probe(user):
    request = APIRequestFactory().post("/probe/", {}, format="json")
    force_authenticate(request, user=user)
    response = TradeProbeApi.as_view()(request)
    response.render()
    return response


@pytest.mark.parametrize(
    ("kyc_status", "bank_statuses", "expected"),
    [
        (None, [], {"kyc_status": "not_started", "bank_status": "not_started", "wallet_ready": False,
                    "can_trade": False}),
        (KYCStatus.PENDING, [BankAccountStatus.PENDING],
         {"kyc_status": "pending", "bank_status": "pending", "wallet_ready": False, "can_trade": False}),
        (KYCStatus.VERIFIED, [BankAccountStatus.FAILED],
         {"kyc_status": "verified", "bank_status": "failed", "wallet_ready": True, "can_trade": False}),
        (KYCStatus.MANUAL_REVIEW, [BankAccountStatus.VERIFIED],
         {"kyc_status": "manual_review", "bank_status": "verified", "wallet_ready": False, "can_trade": False}),
        (KYCStatus.VERIFIED, [BankAccountStatus.FAILED, BankAccountStatus.VERIFIED],
         {"kyc_status": "verified", "bank_status": "verified", "wallet_ready": True, "can_trade": True}),
    ],
)
def test_onboarding_reports_each_step_and_can_trade_only_when_both_are_verified(
    investor, investor_client, kyc_status, bank_statuses, expected, django_assert_num_queries
):
    if kyc_status:
        KYCProfileFactory(user=investor, status=kyc_status)
    for status in bank_statuses:
        BankAccountFactory(user=investor, status=status)
    with django_assert_num_queries(1):
        assert selectors.onboarding_status(user=investor) == expected
    assert investor_client.get("/api/v1/me/").json()["onboarding"] == expected
    assert selectors.user_can_trade(user=investor) is expected["can_trade"]
    assert selectors.kyc_status_for_user(user=investor) == expected["kyc_status"]


def test_can_trade_refuses_without_kyc(investor):
    response = call_probe(investor)
    assert response.status_code == 403
    assert response.data["errors"][0]["code"] == "kyc_required"
    assert "not started" in response.data["errors"][0]["detail"]


def test_can_trade_refuses_without_a_verified_bank_account(investor):
    KYCProfileFactory(user=investor, status=KYCStatus.VERIFIED)
    BankAccountFactory(user=investor, status=BankAccountStatus.PENDING)
    response = call_probe(investor)
    assert response.status_code == 403
    assert response.data["errors"][0]["code"] == "bank_account_required"
    assert "pending" in response.data["errors"][0]["detail"]


def test_can_trade_lets_a_fully_onboarded_investor_through(investor):
    KYCProfileFactory(user=investor, status=KYCStatus.VERIFIED)
    BankAccountFactory(user=investor, status=BankAccountStatus.VERIFIED, is_primary=True)
    response = call_probe(investor)
    assert response.status_code == 200


def test_can_trade_leaves_anonymous_callers_to_authentication(db):
    from django.contrib.auth.models import AnonymousUser

    request = APIRequestFactory().post("/probe/", {}, format="json")
    request.user = AnonymousUser()
    assert CanTrade().has_permission(request, None) is False


def test_another_users_kyc_is_never_shown(investor_client):
    KYCProfileFactory(status=KYCStatus.VERIFIED)  # someone else's
    assert investor_client.get("/api/v1/kyc/").json()["status"] == "not_started"


BANK_STATUS_SETS = [
    [status for bit, status in enumerate(BankAccountStatus.values) if mask >> bit & 1]
    for mask in range(2 ** len(BankAccountStatus.values))
]


def gate_outcome(check) -> tuple:
    """`("clear",)` when `check` passes, else the refusal's class, code and wording."""
    from core.errors import PermissionDenied

    try:
        check()
    except PermissionDenied as refusal:
        return type(refusal), refusal.get_codes(), str(refusal.detail)
    return ("clear",)


def gate_in_sql(user) -> None:
    from django.db import DatabaseError, connection, transaction

    from kyc.gate import GATE_PARAMS, raise_for_gate_refusal, trader_gate_sql

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT {trader_gate_sql(placeholder='%(user)s')}", {"user": user.pk, **GATE_PARAMS})
            assert cursor.fetchone() == (user.pk,)
    except DatabaseError as error:
        raise_for_gate_refusal(error)
        raise


@requires_postgres
@pytest.mark.parametrize("kyc_status", [None, *KYCStatus.values])
def test_the_gate_inside_a_statement_clears_and_words_refusals_as_the_python_gate_does(kyc_status):
    """`kyc_trader()` (the gate a buy's settling statement meets) against `require_can_trade`,
    for every KYC status and every set of bank account statuses: the same users clear, and a
    refusal is the same error with the same words."""
    from kyc.permissions import require_can_trade

    outcomes = []
    for statuses in BANK_STATUS_SETS:
        user = UserFactory()
        if kyc_status is not None:
            KYCProfileFactory(user=user, status=kyc_status)
        for status in statuses:
            BankAccountFactory(user=user, status=status)
        expected = gate_outcome(lambda user=user: require_can_trade(user=user))
        assert gate_outcome(lambda user=user: gate_in_sql(user)) == expected, (kyc_status, statuses)
        outcomes.append(expected[0])
    clears = outcomes.count("clear")
    assert clears == (len(BANK_STATUS_SETS) // 2 if kyc_status == KYCStatus.VERIFIED else 0)
