"""Query parameters pass a filter form, always: a list's `?status=` is a choice like any other
input, so a value the list does not know is a 400 in the API's error shape, never a query
that fails further down (a NUL character, which PostgreSQL cannot hold, was a 500 on six
lists). `core.middleware.RequestLimitsMiddleware` refuses a NUL in any query string as well,
for the parameters a view reads without a form (pagination's `page`, `cursor`)."""

from rest_framework import serializers


def query_filters(serializer_class: type[serializers.Serializer], request) -> dict:
    """The validated query parameters of `request` (400 on a bad one); a blank value is as if
    the parameter were absent."""
    filters = serializer_class(data=request.query_params)
    filters.is_valid(raise_exception=True)
    return {name: value for name, value in filters.validated_data.items() if value != ""}
