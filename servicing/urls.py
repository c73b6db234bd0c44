from django.urls import path

from servicing import api

urlpatterns = [
    path("holdings/", api.HoldingListApi.as_view(), name="holdings"),
    path("cash-flows/", api.CashFlowListApi.as_view(), name="cash-flows"),
    path("portfolio/", api.PortfolioApi.as_view(), name="portfolio"),
    path("admin/offerings/<id:offering_id>/repayments/", api.OfferingRepaymentApi.as_view(),
         name="admin-offering-repayments"),
    path("admin/offerings/<id:offering_id>/default/", api.OfferingDefaultApi.as_view(),
         name="admin-offering-default"),
    path("admin/distributions/<id:distribution_id>/", api.DistributionDetailApi.as_view(),
         name="admin-distribution"),
]
