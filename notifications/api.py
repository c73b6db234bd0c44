from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.pagination import PagePagination
from notifications import selectors, services
from notifications.enums import DeliveryChannel, NotificationKind
from notifications.live import notification_payload


class NotificationOutputSerializer(serializers.Serializer):
    """Same fields as the WebSocket push (`live.notification_payload`)."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=NotificationKind.choices)
    title = serializers.CharField()
    body = serializers.CharField()
    data = serializers.DictField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)
    is_read = serializers.BooleanField()


class NotificationListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=NotificationKind.choices, required=False)
        unread = serializers.BooleanField(required=False, default=False, help_text="Only unread ones.")

    class OutputSerializer(serializers.Serializer):
        count = serializers.IntegerField()
        next = serializers.URLField(allow_null=True)
        previous = serializers.URLField(allow_null=True)
        results = NotificationOutputSerializer(many=True)

    @extend_schema(
        parameters=[FilterSerializer, OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
        responses={200: OutputSerializer},
        operation_id="notifications_list",
        description="The caller's notifications: unread first, then newest first.",
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = selectors.notification_list(
            user=request.user, kind=filters.validated_data.get("kind"), unread_only=filters.validated_data["unread"]
        )
        paginator = PagePagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response([notification_payload(n) for n in page])


class NotificationReadApi(APIView):
    @extend_schema(request=None, responses={200: NotificationOutputSerializer})
    def post(self, request, notification_id: int):
        notification = services.notification_mark_read(user=request.user, notification_id=notification_id)
        return Response(notification_payload(notification))


class NotificationReadAllApi(APIView):
    class OutputSerializer(serializers.Serializer):
        updated = serializers.IntegerField(help_text="How many notifications were marked read.")
        unread_count = serializers.IntegerField()

    @extend_schema(request=None, responses={200: OutputSerializer})
    def post(self, request):
        updated = services.notification_mark_all_read(user=request.user)
        unread = selectors.notification_unread_count(user_id=request.user.id)
        return Response(self.OutputSerializer({"updated": updated, "unread_count": unread}).data)


class NotificationUnreadCountApi(APIView):
    class OutputSerializer(serializers.Serializer):
        unread_count = serializers.IntegerField()

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request):
        unread = selectors.notification_unread_count(user_id=request.user.id)
        return Response(self.OutputSerializer({"unread_count": unread}).data)


class NotificationPreferenceChoiceSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=NotificationKind.choices)
    channel = serializers.ChoiceField(choices=DeliveryChannel.choices)
    enabled = serializers.BooleanField()


class NotificationPreferenceApi(APIView):
    class InputSerializer(serializers.Serializer):
        preferences = serializers.ListField(
            child=NotificationPreferenceChoiceSerializer(), allow_empty=False,
            max_length=len(NotificationKind) * len(DeliveryChannel),
            help_text="The (kind, channel) choices to set; ones not listed keep their value.",
        )

        def validate_preferences(self, value):
            # A pair named twice cannot be upserted in one statement (it was a 500).
            pairs = [(item["kind"], item["channel"]) for item in value]
            if len(pairs) != len(set(pairs)):
                raise serializers.ValidationError("Name each (kind, channel) once.", code="duplicate")
            return value

    class OutputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=NotificationKind.choices)
        channel = serializers.ChoiceField(choices=DeliveryChannel.choices)
        enabled = serializers.BooleanField()
        locked = serializers.BooleanField(help_text="Always on: money movements and security events in the app.")

    @extend_schema(responses={200: OutputSerializer(many=True)})
    def get(self, request):
        preferences = selectors.notification_preferences_for_user(user=request.user)
        return Response(self.OutputSerializer(preferences, many=True).data)

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer(many=True)})
    def put(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.notification_preferences_set(user=request.user, changes=data.validated_data["preferences"])
        preferences = selectors.notification_preferences_for_user(user=request.user)
        return Response(self.OutputSerializer(preferences, many=True).data)
