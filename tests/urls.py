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
    """Each execution writes one audit event, so tests can count executions. After writing
    it, the probe can refuse (`then=refuse`, 409), or on its first run (`runs` counts them)
    crash (`crash_once`, 500) or lose a deadlock (`deadlock_once`: psycopg's exception as
    Django wraps it)."""

    runs = 0

    class InputSerializer(serializers.Serializer):
        amount = serializers.DecimalField(max_digits=18, decimal_places=2)
        delay = serializers.FloatField(required=False, default=0)
        then = serializers.ChoiceField(choices=("answer", "crash_once", "refuse", "deadlock_once"), required=False,
                                       default="answer")

    @idempotent
    def post(self, request):
        return self.probe(request)

    def probe(self, request):
        import time

        from django.db import OperationalError
        from psycopg.errors import DeadlockDetected

        from core.errors import InvalidState

        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        time.sleep(data.validated_data["delay"])
        amount = str(data.validated_data["amount"])
        event = audit_record(action="test.idempotent", actor=request.user, data={"amount": amount})
        IdempotentProbeApi.runs += 1
        then = data.validated_data["then"]
        if then == "crash_once" and IdempotentProbeApi.runs == 1:
            raise RuntimeError("the worker fell over after the effect")
        if then == "refuse":
            raise InvalidState("Refused after the effect.")
        if then == "deadlock_once" and IdempotentProbeApi.runs == 1:
            try:
                raise DeadlockDetected("deadlock detected")
            except DeadlockDetected as exc:
                raise OperationalError("deadlock detected") from exc
        return Response({"id": event.id, "amount": amount}, status=201)


class OutsideCallProbeApi(IdempotentProbeApi):
    """The same probe in `atomic=False` mode (a view that calls an outside service)."""

    @idempotent(atomic=False)
    def post(self, request):
        return self.probe(request)


class StaffOnlyApi(APIView):
    permission_classes = (IsAdminUser,)

    def get(self, request):
        return Response({"ok": True})


class BrokenApi(APIView):
    def get(self, request):
        raise RuntimeError("secret internal detail: db password is hunter2")


urlpatterns = [
    path("api/v1/test/idempotent/", IdempotentProbeApi.as_view()),
    path("api/v1/test/idempotent-outside/", OutsideCallProbeApi.as_view()),
    path("api/v1/test/staff-only/", StaffOnlyApi.as_view()),
    path("api/v1/test/broken/", BrokenApi.as_view()),
    *real_urlpatterns,
]
