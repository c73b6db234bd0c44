from django.urls import path

from invoices import api
from invoices.enums import ProgramStatus

urlpatterns = [
    path("parties/", api.PartyListApi.as_view(), name="party-list"),
    path("parties/<id:party_id>/", api.PartyDetailApi.as_view(), name="party-detail"),
    path("parties/<id:party_id>/members/", api.PartyMemberListApi.as_view(), name="party-members"),
    path("parties/<id:party_id>/members/<id:user_id>/", api.PartyMemberDetailApi.as_view(),
         name="party-member-detail"),
    path("parties/<id:party_id>/dashboard/", api.PartyDashboardApi.as_view(), name="party-dashboard"),
    path("programs/", api.ProgramListApi.as_view(), name="program-list"),
    path("programs/<id:program_id>/", api.ProgramDetailApi.as_view(), name="program-detail"),
    path("programs/<id:program_id>/activate/",
         api.ProgramStatusApi.as_view(target_status=ProgramStatus.ACTIVE), name="program-activate"),
    path("programs/<id:program_id>/suspend/",
         api.ProgramStatusApi.as_view(target_status=ProgramStatus.SUSPENDED), name="program-suspend"),
    path("programs/<id:program_id>/utilization/", api.ProgramUtilizationApi.as_view(),
         name="program-utilization"),
    path("programs/<id:program_id>/counterparties/", api.CounterpartyListApi.as_view(),
         name="counterparty-list"),
    path("programs/<id:program_id>/counterparties/<id:counterparty_id>/", api.CounterpartyDetailApi.as_view(),
         name="counterparty-detail"),
    path("invoices/", api.InvoiceListApi.as_view(), name="invoice-list"),
    path("invoices/bulk/", api.InvoiceBulkApi.as_view(), name="invoice-bulk"),
    path("invoices/<id:invoice_id>/", api.InvoiceDetailApi.as_view(), name="invoice-detail"),
    path("finance-requests/", api.FinanceRequestListApi.as_view(), name="finance-request-list"),
    path("finance-requests/<id:finance_request_id>/", api.FinanceRequestDetailApi.as_view(),
         name="finance-request-detail"),
    path("finance-requests/<id:finance_request_id>/sign/", api.FinanceRequestSignApi.as_view(),
         name="finance-request-sign"),
    path("finance-requests/<id:finance_request_id>/reject/", api.FinanceRequestRejectApi.as_view(),
         name="finance-request-reject"),
    path("admin/finance-requests/<id:finance_request_id>/disburse/", api.AdminFinanceRequestDisburseApi.as_view(),
         name="admin-finance-request-disburse"),
    path("admin/invoices/<id:invoice_id>/repayments/", api.AdminInvoiceRepaymentApi.as_view(),
         name="admin-invoice-repayments"),
]
