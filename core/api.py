from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.health import readiness_report


class HealthzView(APIView):
    """The process is up. Touches nothing else."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(exclude=True)
    def get(self, request):
        return Response({"status": "ok"})


class ReadyzView(APIView):
    """Database, cache and broker reachable (and event delivery not too far behind, when
    `OUTBOX_READY_MAX_LAG_SECONDS` is set); 503 naming whatever is down. Both answers carry
    the outbox's backlog and lag."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    @extend_schema(exclude=True)
    def get(self, request):
        problems, outbox = readiness_report()
        if problems:
            return Response({"status": "unavailable", "down": problems, "outbox": outbox},
                            status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response({"status": "ok", "outbox": outbox})


class ApiNotFoundView(APIView):
    """Unknown paths under /api/ answer 404 in the API's error shape."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    schema = None  # not part of the API

    def initial(self, request, *args, **kwargs):
        # Before method dispatch, so every method gets 404 (not 405).
        super().initial(request, *args, **kwargs)
        raise NotFound("No API endpoint at this path.")
