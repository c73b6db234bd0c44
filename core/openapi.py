"""OpenAPI: error responses in the API.md shape, and unique names for nested serializers.

Views follow the HackSoft layout (`SomeApi.InputSerializer`), so several serializer classes
share a short name; the schema names them after their view (`OtpRequestInput`).
"""

from drf_standardized_errors.openapi import AutoSchema as ErrorAwareAutoSchema
from rest_framework import serializers


class DomainErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine code, e.g. insufficient_funds.")
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class DomainErrorResponseSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=[("client_error", "client_error")])
    errors = DomainErrorSerializer(many=True)


class AutoSchema(ErrorAwareAutoSchema):
    def get_serializer_name(self, serializer, direction):
        qualified = type(serializer).__qualname__
        if "." in qualified:
            outer, inner = qualified.rsplit(".", 2)[-2:]
            return outer.removesuffix("Api").removesuffix("View") + inner.removesuffix("Serializer")
        return super().get_serializer_name(serializer, direction)
