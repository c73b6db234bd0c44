"""HTTP edge of the primary platform (API.md, "Primary platform"). Thin views: validate,
call one service or selector, serialize. Every view resolves the caller's organization
from their memberships (`accounts.tenancy`); every object is fetched through a scoped
selector, so another organization's object is a 404."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import InvitationSerializer
from accounts.invitations import invitation_list_for_organization, organization_member_get
from accounts.tenancy import (
    IsOrganizationAdminOrReadOnly,
    TenantAdminApiMixin,
    TenantApiMixin,
)
from core.errors import InvalidInput, NotFound
from core.filters import query_filters
from core.idempotency import idempotent
from core.pagination import PagePagination
from core.parsers import BoundedJSONParser
from invoices import selectors, services
from invoices.enums import (
    FinanceRequestStatus,
    InvoiceStatus,
    PartyKind,
    PartyRole,
    ProgramKind,
    ProgramStatus,
    WorkflowAction,
)
from invoices.errors import NotASignatory

MONEY = {"max_digits": 18, "decimal_places": 2}
RATE = {"max_digits": 7, "decimal_places": 4}


def _paginate(view: APIView, queryset, serializer_class) -> Response:
    paginator = PagePagination()
    page = paginator.paginate_queryset(queryset, view.request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def _reference(resolve, *, attr: str, **kwargs):
    """A body field naming another object: one the caller cannot see is a 400 on the field."""
    try:
        return resolve(**kwargs)
    except NotFound:
        raise InvalidInput("No such object.", code="does_not_exist", attr=attr) from None


# --- Shared output serializers ----------------------------------------------------------

class PartyBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    legal_name = serializers.CharField()


class PartySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    legal_name = serializers.CharField()
    pan = serializers.CharField(source="masked_pan", help_text="Masked: XXXXXX234F.")
    gstin = serializers.CharField(source="masked_gstin", help_text="Masked: XXXXXXXXXXX1Z5; empty without one.")
    kind = serializers.ChoiceField(choices=PartyKind.choices)
    signatures_required = serializers.IntegerField()
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class ProgramSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=ProgramKind.choices)
    anchor = PartyBriefSerializer()
    status = serializers.ChoiceField(choices=ProgramStatus.choices)
    max_limit_amount = serializers.DecimalField(**MONEY)
    used_limit = serializers.DecimalField(**MONEY)
    available_limit = serializers.DecimalField(**MONEY)
    max_invoice_amount = serializers.DecimalField(**MONEY)
    max_invoice_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    interest_rate = serializers.DecimalField(**RATE)
    min_tenor_days = serializers.IntegerField()
    max_tenor_days = serializers.IntegerField()
    grace_days = serializers.IntegerField()
    overdue_rate = serializers.DecimalField(**RATE)


class CounterpartySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    program = serializers.IntegerField(source="program_id")
    party = PartyBriefSerializer()
    limit_amount = serializers.DecimalField(**MONEY)
    used_limit = serializers.DecimalField(**MONEY)
    available_limit = serializers.DecimalField(**MONEY)
    is_active = serializers.BooleanField()


class InvoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    program = serializers.IntegerField(source="program_id")
    seller = PartyBriefSerializer()
    buyer = PartyBriefSerializer()
    amount = serializers.DecimalField(**MONEY)
    issue_date = serializers.DateField()
    due_date = serializers.DateField()
    status = serializers.ChoiceField(choices=InvoiceStatus.choices)
    has_file = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_has_file(self, invoice) -> bool:
        return bool(invoice.file)


class SignatureSerializer(serializers.Serializer):
    step = serializers.IntegerField()
    signer = serializers.IntegerField(source="signer_id")
    role = serializers.ChoiceField(choices=PartyRole.choices)
    signed_at = serializers.DateTimeField()


class FinanceRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    invoice = serializers.IntegerField(source="invoice_id")
    program = serializers.IntegerField(source="program_id")
    party = PartyBriefSerializer()
    status = serializers.ChoiceField(choices=FinanceRequestStatus.choices)
    finance_amount = serializers.DecimalField(**MONEY)
    finance_percentage = serializers.DecimalField(max_digits=5, decimal_places=2)
    interest_rate = serializers.DecimalField(**RATE)
    tenor_days = serializers.IntegerField()
    interest_amount = serializers.DecimalField(**MONEY)
    net_disbursal_amount = serializers.DecimalField(**MONEY)
    due_date = serializers.DateField()
    signatures_required = serializers.IntegerField()
    signatures = SignatureSerializer(many=True, source="signatures.all")
    disbursed_on = serializers.DateField(allow_null=True)
    principal_repaid = serializers.DecimalField(**MONEY)
    overdue_interest = serializers.DecimalField(**MONEY)
    outstanding_amount = serializers.DecimalField(**MONEY)
    created_at = serializers.DateTimeField()


class WorkflowEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    actor = serializers.IntegerField(source="actor_id", allow_null=True)
    action = serializers.ChoiceField(choices=WorkflowAction.choices)
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    data = serializers.JSONField()
    at = serializers.DateTimeField()


class RepaymentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    invoice = serializers.IntegerField(source="invoice_id")
    finance_request = serializers.IntegerField(source="finance_request_id")
    amount = serializers.DecimalField(**MONEY)
    principal_amount = serializers.DecimalField(**MONEY)
    interest_amount = serializers.DecimalField(**MONEY)
    received_on = serializers.DateField()
    reference = serializers.CharField()
    source = serializers.CharField()


# --- Parties ----------------------------------------------------------------------------

class PartyListApi(TenantApiMixin, APIView):
    pagination_class = PagePagination  # the GET answers a page; documents it in the schema
    permission_classes = (IsOrganizationAdminOrReadOnly,)

    class InputSerializer(serializers.Serializer):
        legal_name = serializers.CharField(max_length=200)
        pan = serializers.CharField(max_length=16)
        gstin = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
        kind = serializers.ChoiceField(choices=PartyKind.choices)
        signatures_required = serializers.IntegerField(min_value=1, max_value=4, default=1)

    @extend_schema(responses={200: PartySerializer(many=True)})
    def get(self, request):
        return _paginate(self, selectors.party_list(tenant=self.tenant), PartySerializer)

    @extend_schema(request=InputSerializer, responses={201: PartySerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        party = services.party_create(organization=self.tenant.organization, actor=request.user,
                                      **data.validated_data)
        return Response(PartySerializer(party).data, status=status.HTTP_201_CREATED)


class PartyDetailApi(TenantApiMixin, APIView):
    permission_classes = (IsOrganizationAdminOrReadOnly,)

    class InputSerializer(serializers.Serializer):
        legal_name = serializers.CharField(max_length=200, required=False)
        gstin = serializers.CharField(max_length=20, required=False, allow_blank=True)
        kind = serializers.ChoiceField(choices=PartyKind.choices, required=False)
        signatures_required = serializers.IntegerField(min_value=1, max_value=4, required=False)
        is_active = serializers.BooleanField(required=False)

    @extend_schema(responses={200: PartySerializer})
    def get(self, request, party_id: int):
        return Response(PartySerializer(selectors.party_get(tenant=self.tenant, party_id=party_id)).data)

    @extend_schema(request=InputSerializer, responses={200: PartySerializer})
    def patch(self, request, party_id: int):
        party = selectors.party_get(tenant=self.tenant, party_id=party_id)
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        party = services.party_update(party=party, actor=request.user, **data.validated_data)
        return Response(PartySerializer(party).data)


class PartyMemberListApi(TenantApiMixin, APIView):
    pagination_class = PagePagination  # the GET answers a page; documents it in the schema
    permission_classes = (IsOrganizationAdminOrReadOnly,)

    class InputSerializer(serializers.Serializer):
        user = serializers.IntegerField()
        role = serializers.ChoiceField(choices=PartyRole.choices)

    class OutputSerializer(serializers.Serializer):
        user = serializers.IntegerField(source="user_id")
        name = serializers.CharField(source="user.name")
        phone = serializers.CharField(source="user.phone")
        role = serializers.ChoiceField(choices=PartyRole.choices)
        created_at = serializers.DateTimeField()

    @extend_schema(responses={200: OutputSerializer(many=True)})
    def get(self, request, party_id: int):
        party = selectors.party_get_own(tenant=self.tenant, party_id=party_id)
        return _paginate(self, selectors.party_member_list(party=party), self.OutputSerializer)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer},
                   description="Choose among the organization's members (`GET /organization/members/`); anyone "
                               "else is invited (`POST /parties/{id}/invitations/`). An unknown user and one of "
                               "another organization get the same 400 on `user`.")
    def post(self, request, party_id: int):
        party = selectors.party_get_own(tenant=self.tenant, party_id=party_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = organization_member_get(organization=self.tenant.organization, user_id=data.validated_data["user"])
        membership = services.party_member_add(party=party, user=user, role=data.validated_data["role"],
                                               actor=request.user)
        return Response(self.OutputSerializer(membership).data, status=status.HTTP_201_CREATED)


class PartyInvitationListApi(TenantApiMixin, APIView):
    """Invite a phone number to act for the party: they join the organization and the party when
    they accept (`POST /invitations/{id}/accept/`). The answer never depends on whose the phone
    is, and nothing changes before they accept."""

    pagination_class = PagePagination  # the GET answers a page; documents it in the schema
    permission_classes = (IsOrganizationAdminOrReadOnly,)

    class InputSerializer(serializers.Serializer):
        phone = serializers.CharField(max_length=32)
        role = serializers.ChoiceField(choices=PartyRole.choices)

    @extend_schema(responses={200: InvitationSerializer(many=True)})
    def get(self, request, party_id: int):
        party = selectors.party_get_own(tenant=self.tenant, party_id=party_id)
        rows = invitation_list_for_organization(organization=self.tenant.organization,
                                                scope=services.PARTY_SCOPE, scope_id=party.pk)
        return _paginate(self, rows, InvitationSerializer)

    @extend_schema(request=InputSerializer, responses={201: InvitationSerializer})
    def post(self, request, party_id: int):
        party = selectors.party_get_own(tenant=self.tenant, party_id=party_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.party_invite(party=party, actor=request.user, phone=data.validated_data["phone"],
                                           role=data.validated_data["role"])
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)


class PartyMemberDetailApi(TenantAdminApiMixin, APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, party_id: int, user_id: int):
        party = selectors.party_get_own(tenant=self.tenant, party_id=party_id)
        services.party_member_remove(party=party, user_id=user_id, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class LimitSerializer(serializers.Serializer):
    limit = serializers.DecimalField(**MONEY)
    used = serializers.DecimalField(**MONEY)
    available = serializers.DecimalField(**MONEY)
    utilization_percent = serializers.DecimalField(max_digits=7, decimal_places=2)


class PartyDashboardApi(TenantApiMixin, APIView):
    class OutputSerializer(serializers.Serializer):
        class PartyLimitSerializer(LimitSerializer):
            program_id = serializers.IntegerField()
            program = serializers.CharField()
            is_active = serializers.BooleanField()

        party = PartyBriefSerializer()
        invoices = serializers.DictField(child=serializers.IntegerField(), help_text="Count by status.")
        outstanding_amount = serializers.DecimalField(**MONEY)
        outstanding_count = serializers.IntegerField()
        overdue_amount = serializers.DecimalField(**MONEY)
        overdue_count = serializers.IntegerField()
        awaiting_signatures = serializers.IntegerField()
        limits = PartyLimitSerializer(many=True)

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request, party_id: int):
        return Response(self.OutputSerializer(selectors.party_dashboard(tenant=self.tenant, party_id=party_id)).data)


# --- Programs ---------------------------------------------------------------------------

class ProgramListApi(TenantApiMixin, APIView):
    pagination_class = PagePagination  # the GET answers a page; documents it in the schema
    permission_classes = (IsOrganizationAdminOrReadOnly,)

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=150)
        kind = serializers.ChoiceField(choices=ProgramKind.choices)
        anchor = serializers.IntegerField()
        max_limit_amount = serializers.DecimalField(**MONEY)
        max_invoice_amount = serializers.DecimalField(**MONEY)
        max_invoice_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
        interest_rate = serializers.DecimalField(**RATE)
        min_tenor_days = serializers.IntegerField(min_value=1)
        max_tenor_days = serializers.IntegerField(min_value=1)
        grace_days = serializers.IntegerField(min_value=0, default=0)
        overdue_rate = serializers.DecimalField(**RATE)

    @extend_schema(responses={200: ProgramSerializer(many=True)})
    def get(self, request):
        return _paginate(self, selectors.program_list(tenant=self.tenant), ProgramSerializer)

    @extend_schema(request=InputSerializer, responses={201: ProgramSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields["anchor"] = _reference(selectors.party_get, attr="anchor", tenant=self.tenant,
                                      party_id=fields["anchor"])
        program = services.program_create(organization=self.tenant.organization, actor=request.user, **fields)
        return Response(ProgramSerializer(program).data, status=status.HTTP_201_CREATED)


class ProgramDetailApi(TenantApiMixin, APIView):
    permission_classes = (IsOrganizationAdminOrReadOnly,)

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=150, required=False)
        max_limit_amount = serializers.DecimalField(**MONEY, required=False)
        max_invoice_amount = serializers.DecimalField(**MONEY, required=False)
        max_invoice_percent = serializers.DecimalField(max_digits=5, decimal_places=2, required=False)
        interest_rate = serializers.DecimalField(**RATE, required=False)
        min_tenor_days = serializers.IntegerField(min_value=1, required=False)
        max_tenor_days = serializers.IntegerField(min_value=1, required=False)
        grace_days = serializers.IntegerField(min_value=0, required=False)
        overdue_rate = serializers.DecimalField(**RATE, required=False)

    @extend_schema(responses={200: ProgramSerializer})
    def get(self, request, program_id: int):
        return Response(ProgramSerializer(selectors.program_get(tenant=self.tenant, program_id=program_id)).data)

    @extend_schema(request=InputSerializer, responses={200: ProgramSerializer})
    def patch(self, request, program_id: int):
        program = selectors.program_get(tenant=self.tenant, program_id=program_id)
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        program = services.program_update(program=program, actor=request.user, **data.validated_data)
        return Response(ProgramSerializer(program).data)


class ProgramStatusApi(TenantAdminApiMixin, APIView):
    """`activate` (draft or suspended → active) and `suspend` (active → suspended)."""

    target_status = ""

    @extend_schema(request=None, responses={200: ProgramSerializer})
    def post(self, request, program_id: int):
        program = selectors.program_get(tenant=self.tenant, program_id=program_id)
        program = services.program_set_status(program=program, status=self.target_status, actor=request.user)
        return Response(ProgramSerializer(program).data)


class ProgramUtilizationApi(TenantApiMixin, APIView):
    class OutputSerializer(LimitSerializer):
        class CounterpartyLimitSerializer(LimitSerializer):
            id = serializers.IntegerField()
            party = PartyBriefSerializer()
            is_active = serializers.BooleanField()
            overdue_count = serializers.IntegerField()

        program = inline_serializer("UtilizationProgram", fields={
            "id": serializers.IntegerField(), "name": serializers.CharField(),
            "kind": serializers.CharField(), "status": serializers.CharField()})
        outstanding_amount = serializers.DecimalField(**MONEY)
        outstanding_count = serializers.IntegerField()
        overdue_amount = serializers.DecimalField(**MONEY)
        overdue_count = serializers.IntegerField()
        counterparties = CounterpartyLimitSerializer(many=True)

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request, program_id: int):
        report = selectors.program_utilization(tenant=self.tenant, program_id=program_id)
        return Response(self.OutputSerializer(report).data)


class CounterpartyListApi(TenantApiMixin, APIView):
    pagination_class = PagePagination  # the GET answers a page; documents it in the schema
    permission_classes = (IsOrganizationAdminOrReadOnly,)

    class InputSerializer(serializers.Serializer):
        party = serializers.IntegerField()
        limit_amount = serializers.DecimalField(**MONEY)

    @extend_schema(responses={200: CounterpartySerializer(many=True)})
    def get(self, request, program_id: int):
        program = selectors.program_get(tenant=self.tenant, program_id=program_id)
        return _paginate(self, selectors.counterparty_list(tenant=self.tenant, program=program),
                         CounterpartySerializer)

    @extend_schema(request=InputSerializer, responses={201: CounterpartySerializer})
    def post(self, request, program_id: int):
        program = selectors.program_get(tenant=self.tenant, program_id=program_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        party = _reference(selectors.party_get, attr="party", tenant=self.tenant,
                           party_id=data.validated_data["party"])
        counterparty = services.counterparty_add(program=program, party=party,
                                                 limit_amount=data.validated_data["limit_amount"],
                                                 actor=request.user)
        return Response(CounterpartySerializer(counterparty).data, status=status.HTTP_201_CREATED)


class CounterpartyDetailApi(TenantApiMixin, APIView):
    permission_classes = (IsOrganizationAdminOrReadOnly,)

    class InputSerializer(serializers.Serializer):
        limit_amount = serializers.DecimalField(**MONEY, required=False)
        is_active = serializers.BooleanField(required=False)

    def _get(self, program_id: int, counterparty_id: int):
        program = selectors.program_get(tenant=self.tenant, program_id=program_id)
        return selectors.counterparty_get(tenant=self.tenant, program=program, counterparty_id=counterparty_id)

    @extend_schema(responses={200: CounterpartySerializer})
    def get(self, request, program_id: int, counterparty_id: int):
        return Response(CounterpartySerializer(self._get(program_id, counterparty_id)).data)

    @extend_schema(request=InputSerializer, responses={200: CounterpartySerializer})
    def patch(self, request, program_id: int, counterparty_id: int):
        counterparty = self._get(program_id, counterparty_id)
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        counterparty = services.counterparty_update(counterparty=counterparty, actor=request.user,
                                                    **data.validated_data)
        return Response(CounterpartySerializer(counterparty).data)


# --- Invoices ---------------------------------------------------------------------------

def _seller_for(view: APIView, seller_id: int | None):
    """The party the caller uploads for: the one named (which they must act for, unless they
    are an admin), or their only party."""
    tenant = view.tenant
    if seller_id is not None:
        party = _reference(selectors.party_get, attr="seller", tenant=tenant, party_id=seller_id)
        if not tenant.is_admin and services.party_signatory(organization_id=tenant.organization_id,
                                                            party_id=party.pk, user=tenant.user) is None:
            raise NotASignatory("You do not act for this seller.")
        return party
    own = selectors.party_ids_for_user(tenant=tenant)
    if len(own) != 1:
        raise InvalidInput("Name the seller party you upload for.", code="seller_required", attr="seller")
    return selectors.party_get_own(tenant=tenant, party_id=own[0])


class InvoiceListApi(TenantApiMixin, APIView):
    pagination_class = PagePagination  # the GET answers a page; documents it in the schema
    parser_classes = (BoundedJSONParser, MultiPartParser, FormParser)

    class InputSerializer(serializers.Serializer):
        number = serializers.CharField(max_length=64)
        buyer = serializers.IntegerField()
        amount = serializers.DecimalField(**MONEY, min_value=0)
        issue_date = serializers.DateField()
        due_date = serializers.DateField()
        seller = serializers.IntegerField(required=False, help_text="Needed only by users of several parties.")
        program = serializers.IntegerField(required=False, help_text="Default: the one active program that fits.")
        file = serializers.FileField(required=False)

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=InvoiceStatus.choices, required=False, allow_blank=True)

    @extend_schema(parameters=[FilterSerializer], responses={200: InvoiceSerializer(many=True)})
    def get(self, request):
        filters = query_filters(self.FilterSerializer, request)
        invoices = selectors.invoice_list(tenant=self.tenant, status=filters.get("status"))
        return _paginate(self, invoices, InvoiceSerializer)

    @extend_schema(request=InputSerializer, responses={201: InvoiceSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        seller = _seller_for(self, fields.pop("seller", None))
        fields["buyer"] = _reference(selectors.party_get, attr="buyer", tenant=self.tenant,
                                     party_id=fields["buyer"])
        if "program" in fields:
            fields["program"] = _reference(selectors.program_get, attr="program", tenant=self.tenant,
                                           program_id=fields["program"])
        invoice = services.invoice_create(organization=self.tenant.organization, actor=request.user, seller=seller,
                                          **fields)
        return Response(InvoiceSerializer(invoice).data, status=status.HTTP_201_CREATED)


class InvoiceBulkApi(TenantApiMixin, APIView):
    """CSV with columns number, buyer_gstin, amount, issue_date, due_date. All or nothing:
    any bad row → 400 listing every problem as `rows.<line>.<column>`, nothing saved."""

    parser_classes = (MultiPartParser, FormParser)

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()
        seller = serializers.IntegerField(required=False)
        program = serializers.IntegerField(required=False)

    class OutputSerializer(serializers.Serializer):
        created = serializers.IntegerField()
        invoices = InvoiceSerializer(many=True)

    @extend_schema(request={"multipart/form-data": InputSerializer}, responses={201: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        seller = _seller_for(self, data.validated_data.get("seller"))
        program = None
        if "program" in data.validated_data:
            program = _reference(selectors.program_get, attr="program", tenant=self.tenant,
                                 program_id=data.validated_data["program"])
        invoices = services.invoice_bulk_create(organization=self.tenant.organization, actor=request.user,
                                                seller=seller, file=data.validated_data["file"], program=program)
        body = {"created": len(invoices), "invoices": invoices}
        return Response(self.OutputSerializer(body).data, status=status.HTTP_201_CREATED)


class InvoiceDetailApi(TenantApiMixin, APIView):
    @extend_schema(responses={200: InvoiceSerializer})
    def get(self, request, invoice_id: int):
        return Response(InvoiceSerializer(selectors.invoice_get(tenant=self.tenant, invoice_id=invoice_id)).data)


class AdminInvoiceRepaymentApi(TenantAdminApiMixin, APIView):
    pagination_class = PagePagination  # the GET answers a page; documents it in the schema
    class InputSerializer(serializers.Serializer):
        amount = serializers.DecimalField(**MONEY)
        received_on = serializers.DateField()
        reference = serializers.CharField(max_length=64)

    @extend_schema(responses={200: RepaymentSerializer(many=True)})
    def get(self, request, invoice_id: int):
        invoice = selectors.invoice_get(tenant=self.tenant, invoice_id=invoice_id)
        return _paginate(self, selectors.repayment_list(invoice=invoice), RepaymentSerializer)

    @extend_schema(request=InputSerializer, responses={201: RepaymentSerializer, 200: RepaymentSerializer})
    @idempotent
    def post(self, request, invoice_id: int):
        invoice = selectors.invoice_get(tenant=self.tenant, invoice_id=invoice_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        recorded = services.repayment_record(invoice=invoice, actor=request.user, **data.validated_data)
        return Response(RepaymentSerializer(recorded.repayment).data,
                        status=status.HTTP_201_CREATED if recorded.created else status.HTTP_200_OK)


# --- Finance requests -------------------------------------------------------------------

class FinanceRequestListApi(TenantApiMixin, APIView):
    pagination_class = PagePagination  # the GET answers a page; documents it in the schema
    class InputSerializer(serializers.Serializer):
        invoice = serializers.IntegerField()

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=FinanceRequestStatus.choices, required=False, allow_blank=True)

    @extend_schema(parameters=[FilterSerializer], responses={200: FinanceRequestSerializer(many=True)})
    def get(self, request):
        filters = query_filters(self.FilterSerializer, request)
        requests = selectors.finance_request_list(tenant=self.tenant, status=filters.get("status"))
        return _paginate(self, requests, FinanceRequestSerializer)

    @extend_schema(request=InputSerializer, responses={201: FinanceRequestSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invoice = _reference(selectors.invoice_get, attr="invoice", tenant=self.tenant,
                             invoice_id=data.validated_data["invoice"])
        finance_request = services.finance_request_create(invoice=invoice, actor=request.user)
        finance_request = selectors.finance_request_get(tenant=self.tenant, finance_request_id=finance_request.pk)
        return Response(FinanceRequestSerializer(finance_request).data, status=status.HTTP_201_CREATED)


class FinanceRequestDetailApi(TenantApiMixin, APIView):
    class OutputSerializer(FinanceRequestSerializer):
        events = WorkflowEventSerializer(many=True)

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request, finance_request_id: int):
        finance_request = selectors.finance_request_get(tenant=self.tenant, finance_request_id=finance_request_id)
        body = dict(FinanceRequestSerializer(finance_request).data)
        body["events"] = WorkflowEventSerializer(selectors.finance_request_events(finance_request=finance_request),
                                                 many=True).data
        return Response(body)


class FinanceRequestSignApi(TenantApiMixin, APIView):
    class InputSerializer(serializers.Serializer):
        step = serializers.IntegerField(required=False, min_value=1, max_value=4,
                                        help_text="Optional guard: the step you mean to sign.")

    @extend_schema(request=InputSerializer, responses={200: FinanceRequestSerializer})
    def post(self, request, finance_request_id: int):
        finance_request = selectors.finance_request_get(tenant=self.tenant, finance_request_id=finance_request_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.finance_request_sign(finance_request=finance_request, actor=request.user,
                                      step=data.validated_data.get("step"))
        finance_request = selectors.finance_request_get(tenant=self.tenant, finance_request_id=finance_request_id)
        return Response(FinanceRequestSerializer(finance_request).data)


class FinanceRequestRejectApi(TenantApiMixin, APIView):
    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    @extend_schema(request=InputSerializer, responses={200: FinanceRequestSerializer})
    def post(self, request, finance_request_id: int):
        finance_request = selectors.finance_request_get(tenant=self.tenant, finance_request_id=finance_request_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.finance_request_reject(finance_request=finance_request, actor=request.user,
                                        reason=data.validated_data["reason"], as_admin=self.tenant.is_admin)
        finance_request = selectors.finance_request_get(tenant=self.tenant, finance_request_id=finance_request_id)
        return Response(FinanceRequestSerializer(finance_request).data)


class AdminFinanceRequestDisburseApi(TenantAdminApiMixin, APIView):
    @extend_schema(request=None, responses={200: FinanceRequestSerializer})
    @idempotent
    def post(self, request, finance_request_id: int):
        finance_request = selectors.finance_request_get(tenant=self.tenant, finance_request_id=finance_request_id)
        services.finance_request_disburse(finance_request=finance_request, actor=request.user)
        finance_request = selectors.finance_request_get(tenant=self.tenant, finance_request_id=finance_request_id)
        return Response(FinanceRequestSerializer(finance_request).data)
