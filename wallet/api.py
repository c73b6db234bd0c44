"""The wallet's HTTP edge: thin views over wallet.services and wallet.selectors."""

from decimal import Decimal

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import renderers, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exports import csv_lines
from core.filters import query_filters
from core.idempotency import idempotent
from core.money import to_money
from core.openapi import DomainErrorResponseSerializer
from core.pagination import NewestFirstCursorPagination, PagePagination
from core.parsers import BoundedJSONParser
from core.storage import file_download_response
from wallet import selectors
from wallet.enums import AccountKind, DepositMethod, DepositStatus, WithdrawalStatus
from wallet.services import deposits as deposit_services
from wallet.services import withdrawals as withdrawal_services


class MoneyInputField(serializers.DecimalField):
    """A money amount from a client: a string (or an integer) with at most 2 decimals, > 0.
    JSON numbers with a fraction arrive as floats, and a float on a money path is refused."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 18)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal("0.01"))
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, float | bool):
            raise serializers.ValidationError("Send amounts as strings, e.g. \"1250.00\".", code="invalid")
        return super().to_internal_value(data)


class IsVerifier(BasePermission):
    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.role in selectors.VERIFIER_ROLES)


ERRORS_422 = OpenApiResponse(DomainErrorResponseSerializer, description="A business rule refused the request.")


# --- Wallet and statement ------------------------------------------------------------------

class WalletApi(APIView):
    class OutputSerializer(serializers.Serializer):
        available = serializers.DecimalField(max_digits=18, decimal_places=2)
        held = serializers.DecimalField(max_digits=18, decimal_places=2)
        pending_withdrawal = serializers.DecimalField(max_digits=18, decimal_places=2)
        currency = serializers.CharField()

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request):
        return Response(self.OutputSerializer(selectors.wallet_balance(user=request.user)).data)


class CsvRenderer(renderers.BaseRenderer):
    media_type = "text/csv"
    format = "csv"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes | str) else b""


class LedgerApi(APIView):
    pagination_class = NewestFirstCursorPagination  # the GET answers a page; documents it in the schema
    renderer_classes = (renderers.JSONRenderer, CsvRenderer)

    class FilterSerializer(serializers.Serializer):
        account = serializers.ChoiceField(
            choices=[AccountKind.AVAILABLE, AccountKind.HELD, AccountKind.PENDING_WITHDRAWAL],
            default=AccountKind.AVAILABLE,
        )
        kind = serializers.CharField(required=False, max_length=48)
        date_from = serializers.DateField(required=False)  # ?from=
        date_to = serializers.DateField(required=False)  # ?to=

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        at = serializers.DateTimeField(source="entry.created_at")
        kind = serializers.CharField(source="entry.kind")
        amount = serializers.DecimalField(source="signed_amount", max_digits=18, decimal_places=2)
        balance_after = serializers.DecimalField(max_digits=18, decimal_places=2)
        reference = serializers.CharField(source="entry.reference")
        memo = serializers.CharField(source="entry.memo")

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="First day (inclusive)."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (inclusive)."),
            OpenApiParameter("kind", OpenApiTypes.STR, description="Entry kind, e.g. deposit."),
            OpenApiParameter("account", OpenApiTypes.STR, enum=["available", "held", "pending_withdrawal"]),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"], description="csv: the whole list."),
        ],
        responses={200: OutputSerializer(many=True)},
    )
    def get(self, request):
        params = request.query_params
        raw = {"account": params.get("account"), "kind": params.get("kind"), "date_from": params.get("from"),
               "date_to": params.get("to")}
        filters = self.FilterSerializer(data={name: value for name, value in raw.items() if value})
        filters.is_valid(raise_exception=True)
        rows = selectors.wallet_statement(
            user=request.user, account_kind=filters.validated_data["account"],
            date_from=filters.validated_data.get("date_from"), date_to=filters.validated_data.get("date_to"),
            kind=filters.validated_data.get("kind"),
        )
        if request.accepted_renderer.format == "csv":
            return self._csv(rows)
        paginator = NewestFirstCursorPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)

    def _csv(self, rows):
        # core.exports: a reference or memo a user typed is never written as a formula.
        lines = csv_lines(["id", "at", "kind", "amount", "balance_after", "reference", "memo"], (
            [row.id, row.entry.created_at, row.entry.kind, to_money(row.signed_amount), to_money(row.balance_after),
             row.entry.reference, row.entry.memo]
            for row in rows.iterator(chunk_size=500)))
        response = StreamingHttpResponse(lines, content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="statement.csv"'
        return response


# --- Deposits ------------------------------------------------------------------------------

class DepositOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    method = serializers.ChoiceField(choices=DepositMethod.choices)
    status = serializers.ChoiceField(choices=DepositStatus.choices)
    reference = serializers.CharField()
    payment_url = serializers.CharField(allow_null=True)
    note = serializers.CharField()
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["payment_url"] = instance.payment_url or None
        return data


class DepositListApi(APIView):
    pagination_class = PagePagination  # the GET answers a page; documents it in the schema
    parser_classes = (BoundedJSONParser, MultiPartParser, FormParser)

    class InputSerializer(serializers.Serializer):
        amount = MoneyInputField()
        method = serializers.ChoiceField(choices=DepositMethod.choices)
        reference = serializers.CharField(required=False, allow_blank=True, max_length=64)
        proof = serializers.FileField(required=False, help_text="Offline methods: PDF, JPEG or PNG, at most 5 MB.")

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=DepositStatus.choices, required=False, allow_blank=True)

    @extend_schema(parameters=[FilterSerializer], responses={200: DepositOutputSerializer(many=True)})
    def get(self, request):
        filters = query_filters(self.FilterSerializer, request)
        deposits = selectors.deposit_list_for_user(user=request.user, status=filters.get("status"))
        paginator = PagePagination()
        page = paginator.paginate_queryset(deposits, request, view=self)
        return paginator.get_paginated_response(DepositOutputSerializer(page, many=True).data)

    @extend_schema(
        request={"application/json": InputSerializer, "multipart/form-data": InputSerializer},
        responses={201: DepositOutputSerializer, 403: ERRORS_422, 409: ERRORS_422, 503: ERRORS_422},
    )
    @idempotent(atomic=False)  # creates the gateway's order: no transaction held open meanwhile
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        deposit = deposit_services.deposit_create(user=request.user, **data.validated_data)
        return Response(DepositOutputSerializer(deposit).data, status=status.HTTP_201_CREATED)


class DepositDetailApi(APIView):
    @extend_schema(responses={200: DepositOutputSerializer})
    def get(self, request, deposit_id: int):
        return Response(DepositOutputSerializer(selectors.deposit_get_for_user(user=request.user,
                                                                              deposit_id=deposit_id)).data)


# --- Withdrawals ---------------------------------------------------------------------------

class WithdrawalOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=18, decimal_places=2)
    bank_account = serializers.IntegerField(source="bank_account_id")
    status = serializers.ChoiceField(choices=WithdrawalStatus.choices)
    failure_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)


class WithdrawalListApi(APIView):
    pagination_class = PagePagination  # the GET answers a page; documents it in the schema
    class InputSerializer(serializers.Serializer):
        amount = MoneyInputField()
        bank_account = serializers.IntegerField(min_value=1)

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=WithdrawalStatus.choices, required=False, allow_blank=True)

    @extend_schema(parameters=[FilterSerializer], responses={200: WithdrawalOutputSerializer(many=True)})
    def get(self, request):
        filters = query_filters(self.FilterSerializer, request)
        withdrawals = selectors.withdrawal_list_for_user(user=request.user, status=filters.get("status"))
        paginator = PagePagination()
        page = paginator.paginate_queryset(withdrawals, request, view=self)
        return paginator.get_paginated_response(WithdrawalOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer,
                   responses={201: WithdrawalOutputSerializer, 403: ERRORS_422, 422: ERRORS_422})
    @idempotent
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        withdrawal = withdrawal_services.withdrawal_create(
            user=request.user, amount=data.validated_data["amount"],
            bank_account_id=data.validated_data["bank_account"],
        )
        return Response(WithdrawalOutputSerializer(withdrawal).data, status=status.HTTP_201_CREATED)


class WithdrawalDetailApi(APIView):
    @extend_schema(responses={200: WithdrawalOutputSerializer})
    def get(self, request, withdrawal_id: int):
        withdrawal = selectors.withdrawal_get_for_user(user=request.user, withdrawal_id=withdrawal_id)
        return Response(WithdrawalOutputSerializer(withdrawal).data)


# --- Webhooks ------------------------------------------------------------------------------

WEBHOOK_OUTPUT = inline_serializer("WebhookOutcome", {"outcome": serializers.CharField()})


class PaymentWebhookApi(APIView):
    """Signed provider events. No user authentication: the HMAC signature is the proof."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    parser_classes = ()

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: WEBHOOK_OUTPUT, 400: ERRORS_422, 404: ERRORS_422},
                   auth=[])
    def post(self, request, provider: str):
        outcome = deposit_services.payment_webhook_receive(provider=provider, headers=request.headers,
                                                           body=request.body)
        return Response({"outcome": outcome})


class PayoutWebhookApi(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    parser_classes = ()

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: WEBHOOK_OUTPUT, 400: ERRORS_422, 404: ERRORS_422},
                   auth=[])
    def post(self, request, provider: str):
        outcome = withdrawal_services.payout_webhook_receive(provider=provider, headers=request.headers,
                                                             body=request.body)
        return Response({"outcome": outcome})


# --- Verifier queue ------------------------------------------------------------------------

class VerifierDepositOutputSerializer(DepositOutputSerializer):
    user = inline_serializer("DepositUser", {"id": serializers.IntegerField(), "phone": serializers.CharField(),
                                             "name": serializers.CharField()})
    decided_by = serializers.IntegerField(source="decided_by_id", allow_null=True)
    proof_url = serializers.SerializerMethodField()

    def get_proof_url(self, deposit) -> str | None:
        if not deposit.proof:
            return None
        return f"/api/v1/verifier/deposits/{deposit.pk}/proof/"


class VerifierDepositListApi(APIView):
    pagination_class = PagePagination  # the GET answers a page; documents it in the schema
    permission_classes = (IsVerifier,)

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=[*DepositStatus.values, "all"], required=False,
                                         default=DepositStatus.PENDING_VERIFICATION,
                                         help_text="Default pending_verification; `all` for every status.")

    @extend_schema(parameters=[FilterSerializer], responses={200: VerifierDepositOutputSerializer(many=True)})
    def get(self, request):
        wanted = query_filters(self.FilterSerializer, request)["status"]
        deposits = selectors.deposit_verification_queue(status=None if wanted == "all" else wanted)
        paginator = PagePagination()
        page = paginator.paginate_queryset(deposits, request, view=self)
        return paginator.get_paginated_response(VerifierDepositOutputSerializer(page, many=True).data)


class VerifierDepositProofApi(APIView):
    permission_classes = (IsVerifier,)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, deposit_id: int):
        deposit = selectors.deposit_get_for_verifier(deposit_id=deposit_id)
        if not deposit.proof:
            from core.errors import NotFound

            raise NotFound("This deposit has no proof file.")
        # Served as documented: an attachment of bytes, whatever the proof is (PDF, JPEG or PNG).
        return file_download_response(deposit.proof, filename=deposit.proof.name.rsplit("/", 1)[-1],
                                      content_type="application/octet-stream")


class VerifierDepositApproveApi(APIView):
    permission_classes = (IsVerifier,)

    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")

    @extend_schema(request=InputSerializer,
                   responses={200: VerifierDepositOutputSerializer, 403: ERRORS_422, 409: ERRORS_422})
    @idempotent
    def post(self, request, deposit_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        deposit = deposit_services.deposit_approve(actor=request.user, deposit_id=deposit_id,
                                                   note=data.validated_data["note"])
        return Response(VerifierDepositOutputSerializer(deposit).data)


class VerifierDepositRejectApi(APIView):
    permission_classes = (IsVerifier,)

    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(max_length=1000)

    @extend_schema(request=InputSerializer,
                   responses={200: VerifierDepositOutputSerializer, 403: ERRORS_422, 409: ERRORS_422})
    @idempotent
    def post(self, request, deposit_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        deposit = deposit_services.deposit_reject(actor=request.user, deposit_id=deposit_id,
                                                  note=data.validated_data["note"])
        return Response(VerifierDepositOutputSerializer(deposit).data)
