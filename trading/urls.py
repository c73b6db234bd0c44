from django.urls import path

from trading import api

urlpatterns = [
    path("marketplace/", api.MarketplaceApi.as_view(), name="marketplace"),
    path("listings/", api.ListingListCreateApi.as_view(), name="listings"),
    path("listings/<id:listing_id>/buy/", api.ListingBuyApi.as_view(), name="listing-buy"),
    path("listings/<id:listing_id>/cancel/", api.ListingCancelApi.as_view(), name="listing-cancel"),
    path("trades/", api.TradeListApi.as_view(), name="trades"),
    path("offerings/<id:offering_id>/quote/", api.OfferingQuoteApi.as_view(), name="offering-quote"),
    path("admin/invoices/", api.AdminInvoiceListApi.as_view(), name="admin-invoices"),
    path("admin/offerings/", api.OfferingCreateApi.as_view(), name="admin-offerings"),
    path("admin/offerings/<id:offering_id>/post/", api.OfferingPostApi.as_view(), name="admin-offering-post"),
]
