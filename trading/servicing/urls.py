from django.urls import path

from trading.servicing import api

urlpatterns = [
    path("cash-flows/", api.CashFlowListApi.as_view(), name="cash-flows"),
    path("portfolio/", api.PortfolioApi.as_view(), name="portfolio"),
    path("reports/tax-statement/", api.TaxStatementApi.as_view(), name="tax-statement"),
    path("tax-declarations/", api.TaxDeclarationListCreateApi.as_view(), name="tax-declarations"),
    path("admin/tax-declarations/", api.TaxDeclarationQueueApi.as_view(), name="admin-tax-declarations"),
    path("admin/tax-declarations/<id:declaration_id>/accept/", api.TaxDeclarationAcceptApi.as_view(),
         name="admin-tax-declaration-accept"),
    path("admin/tax-declarations/<id:declaration_id>/reject/", api.TaxDeclarationRejectApi.as_view(),
         name="admin-tax-declaration-reject"),
    path("admin/offerings/<id:offering_id>/repayments/", api.OfferingRepaymentApi.as_view(),
         name="admin-offering-repayments"),
    path("admin/offerings/<id:offering_id>/default/", api.OfferingDefaultApi.as_view(),
         name="admin-offering-default"),
    path("admin/distributions/<id:distribution_id>/", api.DistributionDetailApi.as_view(),
         name="admin-distribution"),
]
