"""The sandbox payment page: what a payer sees at the sandbox's `payment_url`.

Routed and served only while `PAYMENT_PROVIDER=sandbox` and sandboxes are allowed (`DEBUG`
or `SANDBOX_PROVIDERS=1`; `wallet.sandbox_access`), 404 otherwise. Its Pay and Fail buttons make
the server build the webhook the sandbox provider would send — body and HMAC signature over
it, exactly as `SandboxPayments.sign_webhook` does — and deliver it to the same receiver as
`POST /api/v1/webhooks/payments/sandbox/`, through the same signature and timestamp checks.
Signing at click time (not at page render) keeps the timestamp fresh however long the page
stays open. The id in the URL is the provider's unguessable payment id, like a hosted
checkout link, so the page needs no sign-in.
"""

from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.views import View

from core.errors import DomainError
from wallet.enums import DepositStatus
from wallet.models import Deposit
from wallet.sandbox_access import sandbox_payment_page_enabled


def _sandbox_deposit(payment_id: str) -> Deposit:
    if not sandbox_payment_page_enabled():
        raise Http404("The payment sandbox is off.")
    deposit = Deposit.objects.filter(provider="sandbox", provider_payment_id=payment_id).first()
    if deposit is None:
        raise Http404("No such sandbox payment.")
    return deposit


class SandboxPaymentView(View):
    template_name = "wallet/sandbox_payment.html"

    def get(self, request, payment_id: str):
        deposit = _sandbox_deposit(payment_id)
        return render(request, self.template_name, {"deposit": deposit, "outcome": None})

    def post(self, request, payment_id: str):
        from integrations.payments import SandboxPayments
        from wallet.services.deposits import payment_webhook_receive

        deposit = _sandbox_deposit(payment_id)
        action = request.POST.get("action")
        if action not in ("pay", "fail"):
            return render(request, self.template_name, {"deposit": deposit, "outcome": "Choose Pay or Fail."},
                          status=400)
        headers, body = SandboxPayments().sign_webhook(
            event_type="payment.captured" if action == "pay" else "payment.failed",
            payment_id=payment_id, amount=deposit.amount,
        )
        try:
            outcome = payment_webhook_receive(provider="sandbox", headers=headers, body=body)
        except DomainError as exc:
            outcome = f"refused: {exc.detail}"
        deposit.refresh_from_db()
        return render(request, self.template_name, {"deposit": deposit, "outcome": outcome,
                                                    "credited": deposit.status == DepositStatus.CREDITED})


urlpatterns = [
    path("payments/<str:payment_id>/", SandboxPaymentView.as_view(), name="sandbox-payment"),
]
