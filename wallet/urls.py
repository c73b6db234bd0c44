from django.urls import path

from wallet import api

urlpatterns = [
    path("wallet/", api.WalletApi.as_view(), name="wallet"),
    path("wallet/ledger/", api.LedgerApi.as_view(), name="wallet-ledger"),
    path("wallet/deposits/", api.DepositListApi.as_view(), name="wallet-deposits"),
    path("wallet/deposits/<id:deposit_id>/", api.DepositDetailApi.as_view(), name="wallet-deposit"),
    path("wallet/withdrawals/", api.WithdrawalListApi.as_view(), name="wallet-withdrawals"),
    path("wallet/withdrawals/<id:withdrawal_id>/", api.WithdrawalDetailApi.as_view(), name="wallet-withdrawal"),
    path("webhooks/payments/<slug:provider>/", api.PaymentWebhookApi.as_view(), name="webhook-payments"),
    path("webhooks/payouts/<slug:provider>/", api.PayoutWebhookApi.as_view(), name="webhook-payouts"),
    path("verifier/deposits/", api.VerifierDepositListApi.as_view(), name="verifier-deposits"),
    path("verifier/deposits/<id:deposit_id>/proof/", api.VerifierDepositProofApi.as_view(),
         name="verifier-deposit-proof"),
    path("verifier/deposits/<id:deposit_id>/approve/", api.VerifierDepositApproveApi.as_view(),
         name="verifier-deposit-approve"),
    path("verifier/deposits/<id:deposit_id>/reject/", api.VerifierDepositRejectApi.as_view(),
         name="verifier-deposit-reject"),
]
