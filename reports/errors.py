from core.errors import DomainError, InvalidInput, InvalidState


class ChartNotAvailable(InvalidInput):
    code = "chart_not_available"
    default_detail = "This report has no chart."


class ExportNotReady(InvalidState):
    code = "export_not_ready"
    default_detail = "The export is not finished yet."


class ExportLinkInvalid(DomainError):
    status_code = 403
    code = "export_link_invalid"
    default_detail = "This download link is not valid for you, or it has expired. Ask for a new one."
