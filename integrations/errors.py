class IntegrationError(Exception):
    """An outside service failed. `retryable` says whether trying again may succeed."""

    def __init__(self, message: str, *, service: str = "", operation: str = "", retryable: bool = False,
                 status: int | None = None):
        super().__init__(message)
        self.service = service
        self.operation = operation
        self.retryable = retryable
        self.status = status


class IntegrationTimeout(IntegrationError):
    """No answer in time. For a non-idempotent call the outcome is unknown."""
