from django.urls import path

from kyc import api

urlpatterns = [
    path("kyc/", api.KycApi.as_view(), name="kyc"),
    path("kyc/prefill/", api.KycPrefillApi.as_view(), name="kyc-prefill"),
    path("kyc/pan-to-gst/", api.KycPanToGstApi.as_view(), name="kyc-pan-to-gst"),
    path("kyc/documents/", api.KycDocumentsApi.as_view(), name="kyc-documents"),
    path("kyc/documents/<id:document_id>/download/", api.KycDocumentDownloadApi.as_view(),
         name="kyc-document-download"),
    path("bank-accounts/", api.BankAccountsApi.as_view(), name="bank-accounts"),
    path("bank-accounts/<id:bank_account_id>/", api.BankAccountDetailApi.as_view(), name="bank-account"),
    path("bank-accounts/<id:bank_account_id>/make-primary/", api.BankAccountMakePrimaryApi.as_view(),
         name="bank-account-make-primary"),
    path("admin/kyc/", api.AdminKycListApi.as_view(), name="admin-kyc"),
    path("admin/kyc/<id:profile_id>/", api.AdminKycDetailApi.as_view(), name="admin-kyc-detail"),
    path("admin/kyc/<id:profile_id>/approve/", api.AdminKycApproveApi.as_view(), name="admin-kyc-approve"),
    path("admin/kyc/<id:profile_id>/reject/", api.AdminKycRejectApi.as_view(), name="admin-kyc-reject"),
]
