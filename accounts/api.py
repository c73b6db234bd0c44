from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.views import TokenRefreshView

from accounts import services
from accounts.enums import Role
from accounts.selectors import onboarding_status
from core.errors import DomainError
from core.middleware import client_ip
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
        otp = serializers.RegexField(r"^\d{6}$", error_messages={"invalid": "Enter the 6-digit code."})
        totp = serializers.RegexField(r"^\d{6}$", required=False, help_text="Staff only: authenticator code.")

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


class TokenRefreshApi(TokenRefreshView):
    """Rotates the refresh token; the old one is blacklisted and refused from then on."""


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
        email = serializers.EmailField()
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


