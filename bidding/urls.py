from django.urls import path

from bidding import api

urlpatterns = [
    path("bids/", api.BidListCreateApi.as_view(), name="bids"),
    path("bids/check-balance/", api.BidCheckBalanceApi.as_view(), name="bid-check-balance"),
    path("bids/<id:bid_id>/", api.BidDetailApi.as_view(), name="bid-detail"),
    path("bids/<id:bid_id>/withdraw/", api.BidWithdrawApi.as_view(), name="bid-withdraw"),
    path("bids/<id:bid_id>/accept/", api.BidAcceptApi.as_view(), name="bid-accept"),
    path("bids/<id:bid_id>/reject/", api.BidRejectApi.as_view(), name="bid-reject"),
]
