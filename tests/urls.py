"""The real URLs plus a few views that exist only to test core behaviour."""

from django.urls import path
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as real_urlpatterns
from core.audit import audit_record
from core.idempotency import idempotent


class IdempotentProbeApi(APIView):
    """Each execution writes one audit event, so tests can count executions."""

    class InputSerializer(serializers.Serializer):
        amount = serializers.DecimalField(max_digits=18, decimal_places=2)
        delay = serializers.FloatField(required=False, default=0)

    @idempotent
    def post(self, request):
        import time

        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        time.sleep(data.validated_data["delay"])
        amount = str(data.validated_data["amount"])
        event = audit_record(action="test.idempotent", actor=request.user, data={"amount": amount})
        return Response({"id": event.id, "amount": amount}, status=201)


class StaffOnlyApi(APIView):
    permission_classes = (IsAdminUser,)

    def get(self, request):
        return Response({"ok": True})


class BrokenApi(APIView):
    def get(self, request):
        raise RuntimeError("secret internal detail: db password is hunter2")


urlpatterns = [
    path("api/v1/test/idempotent/", IdempotentProbeApi.as_view()),
    path("api/v1/test/staff-only/", StaffOnlyApi.as_view()),
    path("api/v1/test/broken/", BrokenApi.as_view()),
    *real_urlpatterns,
]
