from django.urls import path

from accounts import api

urlpatterns = [
    path("auth/otp/", api.OtpRequestApi.as_view(), name="auth-otp"),
    path("auth/otp/verify/", api.OtpVerifyApi.as_view(), name="auth-otp-verify"),
    path("auth/token/refresh/", api.TokenRefreshApi.as_view(), name="auth-token-refresh"),
    path("auth/logout/", api.LogoutApi.as_view(), name="auth-logout"),
    path("me/", api.MeApi.as_view(), name="me"),
    path("me/activity/", api.MeActivityApi.as_view(), name="me-activity"),
    path("me/organizations/", api.MyOrganizationListApi.as_view(), name="me-organizations"),
    path("me/organizations/default/", api.MyDefaultOrganizationApi.as_view(), name="me-organization-default"),
    path("invitations/", api.MyInvitationListApi.as_view(), name="my-invitations"),
    path("invitations/<id:invitation_id>/accept/", api.MyInvitationAcceptApi.as_view(), name="invitation-accept"),
    path("invitations/<id:invitation_id>/decline/", api.MyInvitationDeclineApi.as_view(), name="invitation-decline"),
    path("organization/members/", api.OrganizationMemberListApi.as_view(), name="organization-members"),
    path("organization/invitations/", api.OrganizationInvitationListApi.as_view(), name="organization-invitations"),
    path("organization/invitations/<id:invitation_id>/", api.OrganizationInvitationDetailApi.as_view(),
         name="organization-invitation-detail"),
    path("admin/users/<id:user_id>/", api.AdminUserDetailApi.as_view(), name="admin-user-detail"),
    path("admin/users/", api.AdminUserListApi.as_view(), name="admin-users"),
    path("admin/impersonations/", api.ImpersonationApi.as_view(), name="admin-impersonations"),
]
