from django.urls import path

from tax import api

urlpatterns = [
    path("reports/tax-statement/", api.TaxStatementApi.as_view(), name="tax-statement"),
    path("tax-declarations/", api.TaxDeclarationListCreateApi.as_view(), name="tax-declarations"),
    path("admin/tax-declarations/", api.TaxDeclarationQueueApi.as_view(), name="admin-tax-declarations"),
    path("admin/tax-declarations/<id:declaration_id>/accept/", api.TaxDeclarationAcceptApi.as_view(),
         name="admin-tax-declaration-accept"),
    path("admin/tax-declarations/<id:declaration_id>/reject/", api.TaxDeclarationRejectApi.as_view(),
         name="admin-tax-declaration-reject"),
]
