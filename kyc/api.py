"""KYC, documents, bank accounts and the staff review queue (API.md "KYC and bank").

PAN, GSTIN and account numbers leave the server only masked (`XXXXXX234F`).
"""

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from core.crypto import mask
from core.pagination import PagePagination
from kyc import selectors, services
from kyc.enums import BankAccountStatus, DocumentKind, KYCKind, KYCStatus
from kyc.permissions import IsKycReviewer


class ProviderLookupThrottle(UserRateThrottle):
    """Provider look-ups cost money per call: a ceiling per user."""

    scope = "kyc_lookup"
    rate = "30/hour"


def _page_of(serializer_class, name: str):
    return inline_serializer(
        name=name,
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )


def _paginated(request, view, queryset, serializer_class) -> Response:
    paginator = PagePagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


# --- The caller's KYC --------------------------------------------------------------------

class KycProfileOutputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=KYCKind.choices, allow_null=True)
    full_name = serializers.CharField()
    pan = serializers.CharField(source="masked_pan", help_text="Masked: XXXXXX234F.")
    date_of_birth = serializers.DateField(allow_null=True)
    address = serializers.CharField()
    company_name = serializers.CharField()
    incorporation_date = serializers.DateField(allow_null=True)
    gstin = serializers.CharField(source="masked_gstin", help_text="Masked.")
    aadhaar_last4 = serializers.CharField()
    status = serializers.ChoiceField(choices=KYCStatus.choices)
    status_reason = serializers.CharField()
    name_match = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    submitted_at = serializers.DateTimeField(allow_null=True)
    verified_at = serializers.DateTimeField(allow_null=True)


_NOT_STARTED = {
    "kind": None, "full_name": "", "masked_pan": "", "date_of_birth": None, "address": "", "company_name": "",
    "incorporation_date": None, "masked_gstin": "", "aadhaar_last4": "", "status": KYCStatus.NOT_STARTED,
    "status_reason": "", "name_match": None, "submitted_at": None, "verified_at": None,
}


class KycApi(APIView):
    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=KYCKind.choices)
        full_name = serializers.CharField(max_length=150)
        pan = serializers.CharField(max_length=20)
        address = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
        date_of_birth = serializers.DateField(required=False, allow_null=True, default=None)
        company_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        incorporation_date = serializers.DateField(required=False, allow_null=True, default=None)
        gstin = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
        aadhaar = serializers.CharField(max_length=20, required=False, allow_blank=True, default="",
                                        help_text="Only the last four digits are kept.")

    OutputSerializer = KycProfileOutputSerializer

    def _render(self, user, status_code=status.HTTP_200_OK) -> Response:
        profile = selectors.kyc_profile_for_user(user=user)
        return Response(self.OutputSerializer(profile or _NOT_STARTED).data, status=status_code)

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request):
        return self._render(request.user)

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def put(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.kyc_submit(user=request.user, **data.validated_data)
        return self._render(request.user)


class KycPrefillApi(APIView):
    throttle_classes = (ProviderLookupThrottle,)

    class OutputSerializer(serializers.Serializer):
        full_name = serializers.CharField()
        pan = serializers.CharField(help_text="Masked; the user types the PAN to confirm it.")
        date_of_birth = serializers.DateField(allow_null=True)
        address = serializers.CharField()

    @extend_schema(request=None, responses={200: OutputSerializer})
    def post(self, request):
        found = services.kyc_prefill(user=request.user)
        body = {"full_name": found.full_name, "pan": mask(found.pan), "date_of_birth": found.date_of_birth,
                "address": found.address}
        return Response(self.OutputSerializer(body).data)


class KycPanToGstApi(APIView):
    throttle_classes = (ProviderLookupThrottle,)

    class InputSerializer(serializers.Serializer):
        pan = serializers.CharField(max_length=20)

    class OutputSerializer(serializers.Serializer):
        gstin = serializers.CharField()
        legal_name = serializers.CharField()
        state = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer(many=True)})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        records = services.kyc_pan_to_gst(pan=data.validated_data["pan"])
        return Response(self.OutputSerializer(records, many=True).data)


# --- Documents ---------------------------------------------------------------------------

class KycDocumentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=DocumentKind.choices)
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    uploaded_at = serializers.DateTimeField()


class KycDocumentsApi(APIView):
    parser_classes = (MultiPartParser,)

    class InputSerializer(serializers.Serializer):
        kind = serializers.ChoiceField(choices=DocumentKind.choices)
        file = serializers.FileField(help_text="PDF, JPEG or PNG (checked by content), at most 5 MB.")

    OutputSerializer = KycDocumentOutputSerializer

    @extend_schema(operation_id="kyc_documents_list", responses={200: _page_of(OutputSerializer, "KycDocumentPage")})
    def get(self, request):
        documents = selectors.kyc_document_list_for_user(user=request.user)
        return _paginated(request, self, documents, self.OutputSerializer)

    @extend_schema(request={"multipart/form-data": InputSerializer}, responses={201: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        document = services.kyc_document_upload(user=request.user, **data.validated_data)
        return Response(self.OutputSerializer(document).data, status=status.HTTP_201_CREATED)


class KycDocumentDownloadApi(APIView):
    @extend_schema(responses={(200, content_type): OpenApiTypes.BINARY  # the stored file's own type
                              for content_type in ("application/pdf", "image/jpeg", "image/png")})
    def get(self, request, document_id: int):
        document = selectors.kyc_document_get_for_download(user=request.user, document_id=document_id)
        services.kyc_document_record_download(actor=request.user, document=document)
        return FileResponse(document.file.open("rb"), as_attachment=True, content_type=document.content_type,
                            filename=f"{document.kind}-{document.pk}{document.extension}")


# --- Bank accounts -----------------------------------------------------------------------

class BankAccountOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    masked_account_number = serializers.CharField()
    ifsc = serializers.CharField()
    holder_name = serializers.CharField()
    status = serializers.ChoiceField(choices=BankAccountStatus.choices)
    status_reason = serializers.CharField()
    name_match = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    is_primary = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    verified_at = serializers.DateTimeField(allow_null=True)


class BankAccountsApi(APIView):
    class InputSerializer(serializers.Serializer):
        account_number = serializers.CharField(max_length=30)
        ifsc = serializers.CharField(max_length=20)
        holder_name = serializers.CharField(max_length=150)

    OutputSerializer = BankAccountOutputSerializer

    @extend_schema(operation_id="bank_accounts_list", responses={200: _page_of(OutputSerializer, "BankAccountPage")})
    def get(self, request):
        accounts = selectors.bank_account_list_for_user(user=request.user)
        return _paginated(request, self, accounts, self.OutputSerializer)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account = services.bank_account_add(user=request.user, **data.validated_data)
        # Re-read: with eager Celery the penny drop has already answered.
        account = selectors.bank_account_get_for_user(user=request.user, bank_account_id=account.pk)
        return Response(self.OutputSerializer(account).data, status=status.HTTP_201_CREATED)


class BankAccountDetailApi(APIView):
    @extend_schema(responses={200: BankAccountOutputSerializer})
    def get(self, request, bank_account_id: int):
        account = selectors.bank_account_get_for_user(user=request.user, bank_account_id=bank_account_id)
        return Response(BankAccountOutputSerializer(account).data)


class BankAccountMakePrimaryApi(APIView):
    @extend_schema(request=None, responses={200: BankAccountOutputSerializer})
    def post(self, request, bank_account_id: int):
        account = services.bank_account_make_primary(user=request.user, bank_account_id=bank_account_id)
        return Response(BankAccountOutputSerializer(account).data)


# --- Staff review queue ------------------------------------------------------------------

class AdminKycUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    phone = serializers.CharField()
    name = serializers.CharField()


class AdminKycOutputSerializer(KycProfileOutputSerializer):
    id = serializers.IntegerField()
    user = AdminKycUserSerializer()
    registered_name = serializers.CharField()
    provider = serializers.CharField()
    provider_reference = serializers.CharField()
    attempts = serializers.IntegerField()
    last_error = serializers.CharField()
    reviewed_by = serializers.IntegerField(source="reviewed_by_id", allow_null=True)
    reviewed_at = serializers.DateTimeField(allow_null=True)


class AdminKycDetailOutputSerializer(AdminKycOutputSerializer):
    documents = KycDocumentOutputSerializer(many=True, source="user.kyc_documents.all",
                                            help_text="Download with GET /kyc/documents/{id}/download/.")


class AdminKycListApi(APIView):
    permission_classes = (IsKycReviewer,)
    OutputSerializer = AdminKycOutputSerializer

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=KYCStatus.choices, required=False)

    @extend_schema(operation_id="admin_kyc_list", parameters=[OpenApiParameter("status", enum=KYCStatus.values)],
                   responses={200: _page_of(OutputSerializer, "AdminKycPage")})
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        profiles = selectors.kyc_review_queue(actor=request.user, **filters.validated_data)
        return _paginated(request, self, profiles, self.OutputSerializer)


class AdminKycDetailApi(APIView):
    permission_classes = (IsKycReviewer,)

    @extend_schema(responses={200: AdminKycDetailOutputSerializer})
    def get(self, request, profile_id: int):
        profile = selectors.kyc_profile_get_for_review(actor=request.user, profile_id=profile_id)
        return Response(AdminKycDetailOutputSerializer(profile).data)


class AdminKycApproveApi(APIView):
    permission_classes = (IsKycReviewer,)

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses={200: AdminKycOutputSerializer})
    def post(self, request, profile_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        profile = services.kyc_approve(actor=request.user, profile_id=profile_id, **data.validated_data)
        return Response(AdminKycOutputSerializer(profile).data)


class AdminKycRejectApi(APIView):
    permission_classes = (IsKycReviewer,)

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=255)

    @extend_schema(request=InputSerializer, responses={200: AdminKycOutputSerializer})
    def post(self, request, profile_id: int):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        profile = services.kyc_reject(actor=request.user, profile_id=profile_id, **data.validated_data)
        return Response(AdminKycOutputSerializer(profile).data)
