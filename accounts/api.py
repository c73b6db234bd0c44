from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenRefreshView

from accounts import invitations, selectors, services
from accounts.authentication import ACTOR_CLAIM
from accounts.enums import InvitationStatus, OnboardingStepStatus, OrganizationRole, Role
from accounts.permissions import ADMIN_ROLES, SUPER_ADMIN_ROLES, IsStaffRole
from accounts.selectors import onboarding_status
from accounts.tenancy import TenantAdminApiMixin
from core.errors import DomainError
from core.middleware import client_ip
from core.pagination import NewestFirstCursorPagination, PagePagination
from core.throttling import AuthBurstThrottle


class OtpRequestApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (AuthBurstThrottle,)

    class InputSerializer(serializers.Serializer):
        phone = serializers.CharField(max_length=32)

    class OutputSerializer(serializers.Serializer):
        expires_in = serializers.IntegerField()
        resend_in = serializers.IntegerField()

    @extend_schema(request=InputSerializer, responses={202: OutputSerializer}, auth=[])
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        sent = services.otp_request(phone=data.validated_data["phone"], ip=client_ip(request))
        return Response(self.OutputSerializer(sent).data, status=status.HTTP_202_ACCEPTED)


class SignedInUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    phone = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)
    is_new = serializers.BooleanField()


class OtpVerifyApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (AuthBurstThrottle,)

    class InputSerializer(serializers.Serializer):
        phone = serializers.CharField(max_length=32)
        otp = serializers.RegexField(r"^[0-9]{6}$", error_messages={"invalid": "Enter the 6-digit code."})
        totp = serializers.RegexField(r"^[0-9]{6}$", required=False, help_text="Staff only: authenticator code.")

    class OutputSerializer(serializers.Serializer):
        access = serializers.CharField()
        refresh = serializers.CharField()
        user = SignedInUserSerializer()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer}, auth=[])
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        signed_in = services.otp_verify(**data.validated_data, ip=client_ip(request))
        user = signed_in.user
        body = {
            "access": signed_in.access,
            "refresh": signed_in.refresh,
            "user": {"id": user.id, "phone": user.phone, "role": user.role, "is_new": signed_in.is_new},
        }
        return Response(self.OutputSerializer(body).data)


class ActorFreeTokenRefreshSerializer(TokenRefreshSerializer):
    """Refuses any token that carries an actor (`act`) claim: impersonation is never renewed."""

    def validate(self, attrs):
        try:
            token = RefreshToken(attrs["refresh"])
        except TokenError as exc:
            raise InvalidToken(str(exc)) from exc
        if token.get(ACTOR_CLAIM):
            raise InvalidToken("An impersonation token cannot be refreshed.")
        return super().validate(attrs)


class TokenRefreshApi(TokenRefreshView):
    """Rotates the refresh token; the old one is blacklisted and refused from then on."""

    serializer_class = ActorFreeTokenRefreshSerializer


class LogoutApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    class InputSerializer(serializers.Serializer):
        refresh = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={205: None}, auth=[])
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.token_logout(refresh=data.validated_data["refresh"])
        except TokenError as exc:
            raise DomainError(str(exc), code="token_not_valid", status_code=status.HTTP_401_UNAUTHORIZED) from exc
        return Response(status=status.HTTP_205_RESET_CONTENT)


class OnboardingSerializer(serializers.Serializer):
    kyc_status = serializers.CharField()
    bank_status = serializers.CharField()
    wallet_ready = serializers.BooleanField()
    can_trade = serializers.BooleanField()


class MeApi(APIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        phone = serializers.CharField()
        email = serializers.CharField(help_text="An email address, or empty when none is set.")
        name = serializers.CharField()
        role = serializers.ChoiceField(choices=Role.choices)
        onboarding = OnboardingSerializer()

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=150, required=False, allow_blank=True)
        email = serializers.EmailField(required=False, allow_blank=True)

    def _render(self, user):
        body = {
            "id": user.id,
            "phone": user.phone,
            "email": user.email,
            "name": user.name,
            "role": user.role,
            "onboarding": onboarding_status(user=user),
        }
        return Response(self.OutputSerializer(body).data)

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request):
        return self._render(request.user)

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def patch(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_update_profile(user=request.user, **data.validated_data)
        return self._render(user)




# --- Activity, user management and impersonation ----------------------------------------------

class MeActivityApi(APIView):
    """The caller's own audit trail: what they did, what was done to their account, and every
    request a support session made on their behalf (`impersonated`, with the staff name)."""
    pagination_class = NewestFirstCursorPagination  # the GET answers a page; documents it in the schema

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        at = serializers.DateTimeField()
        action = serializers.CharField()
        target_type = serializers.CharField()
        target_id = serializers.CharField()
        ip = serializers.IPAddressField(allow_null=True)
        impersonated = serializers.SerializerMethodField()
        impersonator_name = serializers.SerializerMethodField()

        def get_impersonated(self, event) -> bool:
            return event.impersonator_id is not None

        def get_impersonator_name(self, event) -> str | None:
            if event.impersonator is None:
                return None
            return event.impersonator.name or "Tranche support"

    @extend_schema(responses={200: OutputSerializer(many=True)})
    def get(self, request):
        paginator = NewestFirstCursorPagination()
        page = paginator.paginate_queryset(selectors.activity_list_for_user(user=request.user), request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class AdminUserOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    phone = serializers.CharField()
    name = serializers.CharField()
    email = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)
    is_active = serializers.BooleanField()
    date_joined = serializers.DateTimeField()
    last_login = serializers.DateTimeField(allow_null=True)
    kyc_status = serializers.CharField()
    bank_status = serializers.CharField()


class AdminUserListApi(APIView):
    """Search users (phone, name, email) and filter by role, KYC and bank status, active flag."""
    pagination_class = PagePagination  # the GET answers a page; documents it in the schema

    permission_classes = (IsStaffRole(roles=ADMIN_ROLES),)

    class FilterSerializer(serializers.Serializer):
        search = serializers.CharField(required=False, allow_blank=True, max_length=100)
        role = serializers.ChoiceField(choices=Role.choices, required=False)
        kyc_status = serializers.ChoiceField(choices=OnboardingStepStatus.choices, required=False)
        bank_status = serializers.ChoiceField(choices=OnboardingStepStatus.choices, required=False)
        is_active = serializers.BooleanField(required=False, allow_null=True, default=None)

    OutputSerializer = AdminUserOutputSerializer  # the same shape as one user's detail

    @extend_schema(parameters=[FilterSerializer], responses={200: OutputSerializer(many=True)})
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = PagePagination()
        page = paginator.paginate_queryset(selectors.user_list_for_staff(**filters.validated_data), request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class AdminUserDetailApi(APIView):
    """One user, for staff; PATCH changes the role or the active flag (see
    `services.user_update_by_staff` for who may do what). Admins and super admins only."""

    permission_classes = (IsStaffRole(roles=ADMIN_ROLES),)

    class InputSerializer(serializers.Serializer):
        role = serializers.ChoiceField(choices=Role.choices, required=False)
        is_active = serializers.BooleanField(required=False)

    def _render(self, user):
        onboarding = onboarding_status(user=user)
        body = {field: getattr(user, field) for field in
                ("id", "phone", "name", "email", "role", "is_active", "date_joined", "last_login")}
        body.update(kyc_status=onboarding["kyc_status"], bank_status=onboarding["bank_status"])
        return Response(AdminUserOutputSerializer(body).data)

    @extend_schema(responses={200: AdminUserOutputSerializer})
    def get(self, request, user_id: int):
        return self._render(selectors.user_get_for_staff(user_id=user_id))

    @extend_schema(request=InputSerializer, responses={200: AdminUserOutputSerializer})
    def patch(self, request, user_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_update_by_staff(actor=request.user, user_id=user_id, **data.validated_data)
        return self._render(user)


class ImpersonationApi(APIView):
    """A super admin starts a 15-minute support session as a non-staff user."""

    permission_classes = (IsStaffRole(roles=SUPER_ADMIN_ROLES),)

    class InputSerializer(serializers.Serializer):
        user = serializers.IntegerField()
        reason = serializers.CharField(max_length=500)

    class OutputSerializer(serializers.Serializer):
        access = serializers.CharField()
        expires_at = serializers.DateTimeField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        started = services.impersonation_start(actor=request.user, user_id=data.validated_data["user"],
                                               reason=data.validated_data["reason"])
        body = {"access": started.access, "expires_at": started.expires_at}
        return Response(self.OutputSerializer(body).data, status=status.HTTP_201_CREATED)


# --- Organizations: members, invitations, the default ------------------------------------------

class InvitationSerializer(serializers.Serializer):
    """What the inviting admin sees: what they typed and where it stands; never who the phone is."""

    id = serializers.IntegerField()
    phone = serializers.CharField()
    role = serializers.SerializerMethodField()
    scope = serializers.CharField(help_text="Empty for the organization itself; `party` for a party.")
    scope_id = serializers.IntegerField(help_text="The party's id, or 0.")
    status = serializers.ChoiceField(choices=InvitationStatus.choices)
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()

    def get_role(self, invitation) -> str:
        return invitation.scope_role or invitation.organization_role


class InvitationInputSerializer(serializers.Serializer):
    phone = serializers.CharField(max_length=32)
    role = serializers.ChoiceField(choices=OrganizationRole.choices, default=OrganizationRole.MEMBER)


class OrganizationInvitationListApi(TenantAdminApiMixin, APIView):
    """An organization admin invites a phone number to join the organization. The answer is the
    same whether the number belongs to anyone or not, and nothing changes until they accept."""

    pagination_class = PagePagination  # the GET answers a page; documents it in the schema

    @extend_schema(responses={200: InvitationSerializer(many=True)})
    def get(self, request):
        paginator = PagePagination()
        page = paginator.paginate_queryset(
            invitations.invitation_list_for_organization(organization=self.tenant.organization), request, view=self)
        return paginator.get_paginated_response(InvitationSerializer(page, many=True).data)

    @extend_schema(request=InvitationInputSerializer, responses={201: InvitationSerializer})
    def post(self, request):
        data = InvitationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = invitations.invitation_create(organization=self.tenant.organization, actor=request.user,
                                                   phone=data.validated_data["phone"],
                                                   organization_role=data.validated_data["role"])
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class OrganizationInvitationDetailApi(TenantAdminApiMixin, APIView):
    @extend_schema(responses={200: InvitationSerializer})
    def delete(self, request, invitation_id: int):
        invitation = invitations.invitation_revoke(organization=self.tenant.organization, actor=request.user,
                                                   invitation_id=invitation_id)
        return Response(InvitationSerializer(invitation).data)


class OrganizationMemberListApi(TenantAdminApiMixin, APIView):
    """The organization's members, for its admins to choose from (e.g. a party's signatories)."""

    pagination_class = PagePagination  # the GET answers a page; documents it in the schema

    class OutputSerializer(serializers.Serializer):
        user = serializers.IntegerField(source="user_id")
        name = serializers.CharField(source="user.name")
        phone = serializers.CharField(source="user.phone")
        role = serializers.ChoiceField(choices=OrganizationRole.choices)
        created_at = serializers.DateTimeField()

    @extend_schema(responses={200: OutputSerializer(many=True)})
    def get(self, request):
        paginator = PagePagination()
        page = paginator.paginate_queryset(
            invitations.organization_member_list(organization=self.tenant.organization), request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class MyInvitationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    organization = serializers.CharField(source="organization.slug")
    invited_to = serializers.CharField(help_text="The organization, and the party or team if any.")
    scope = serializers.CharField()
    role = serializers.CharField()
    expires_at = serializers.DateTimeField()


def _my_invitation(invitation, label: str) -> dict:
    return {"id": invitation.id, "organization": invitation.organization, "invited_to": label,
            "scope": invitation.scope, "role": invitation.scope_role or invitation.organization_role,
            "expires_at": invitation.expires_at}


class MyInvitationListApi(APIView):
    """The invitations waiting for the caller's phone number."""

    @extend_schema(responses={200: MyInvitationSerializer(many=True)})
    def get(self, request):
        rows = [_my_invitation(invitation, label)
                for invitation, label in invitations.invitation_list_for_user(user=request.user)]
        return Response(MyInvitationSerializer(rows, many=True).data)


class MyInvitationAcceptApi(APIView):
    accept = True

    @extend_schema(request=None, responses={200: InvitationSerializer})
    def post(self, request, invitation_id: int):
        decide = invitations.invitation_accept if self.accept else invitations.invitation_decline
        return Response(InvitationSerializer(decide(user=request.user, invitation_id=invitation_id)).data)


class MyInvitationDeclineApi(MyInvitationAcceptApi):
    accept = False


class MyOrganizationSerializer(serializers.Serializer):
    organization = serializers.CharField(source="organization.slug")
    name = serializers.CharField(source="organization.name")
    role = serializers.ChoiceField(choices=OrganizationRole.choices)
    is_default = serializers.BooleanField()


class MyOrganizationListApi(APIView):
    """The organizations the caller belongs to; requests act in the default one unless they
    name another with `X-Organization` (without a default, the first joined)."""

    @extend_schema(responses={200: MyOrganizationSerializer(many=True)})
    def get(self, request):
        memberships = request.user.organization_memberships.select_related("organization").filter(
            organization__is_active=True).order_by("id")
        return Response(MyOrganizationSerializer(memberships, many=True).data)


class MyDefaultOrganizationApi(APIView):
    class InputSerializer(serializers.Serializer):
        organization = serializers.SlugField(max_length=64)

    @extend_schema(request=InputSerializer, responses={200: MyOrganizationSerializer})
    def put(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = invitations.organization_default_set(user=request.user, slug=data.validated_data["organization"])
        return Response(MyOrganizationSerializer(membership).data)
