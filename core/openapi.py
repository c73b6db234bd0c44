"""OpenAPI: error responses in the API.md shape, and unique names for nested serializers.

Views follow the HackSoft layout (`SomeApi.InputSerializer`), so several serializer classes
share a short name; the schema names them after their view (`OtpRequestInput`).
"""

from drf_standardized_errors.openapi import AutoSchema as ErrorAwareAutoSchema
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine code: a DRF one (required, invalid, not_found, …) "
                                           "or a domain one (insufficient_funds, kyc_required, …).")
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True, help_text="The field, or null.")


class ErrorResponseSerializer(serializers.Serializer):
    """API.md's one error shape, for every error status. The codes are not enumerated per
    status: domain errors (core.errors subclasses) add their own to DRF's."""

    type = serializers.ChoiceField(choices=[("validation_error", "validation_error"),
                                            ("client_error", "client_error"), ("server_error", "server_error")])
    errors = ErrorDetailSerializer(many=True)


class DomainErrorResponseSerializer(ErrorResponseSerializer):
    """What views name for their domain errors (409, 422 …): the same one shape."""


# Any view can answer these: authentication (401), a domain rule (403 kyc_required, 409, 422)
# or a throttle (429), so every operation documents them (schemathesis checks the schema).
ALWAYS_DOCUMENTED_ERRORS = {"400", "401", "403", "404", "409", "422", "429"}


class AutoSchema(ErrorAwareAutoSchema):
    def _should_add_error_response(self, responses: dict, status_code: str) -> bool:
        if status_code in ALWAYS_DOCUMENTED_ERRORS and status_code not in responses:
            return True
        return super()._should_add_error_response(responses, status_code)

    def get_serializer_name(self, serializer, direction):
        qualified = type(serializer).__qualname__
        if "." in qualified:
            outer, inner = qualified.rsplit(".", 2)[-2:]
            return outer.removesuffix("Api").removesuffix("View") + inner.removesuffix("Serializer")
        return super().get_serializer_name(serializer, direction)
