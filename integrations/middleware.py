"""Says on every response that sandboxes serve this deployment (`X-Sandbox-Providers`).

A client, a tester or a load balancer's log can then never take a sandbox's answer (a KYC
that verifies any PAN, a payment credited by a click) for a real one. The admin shows the
same list as a banner (`integrations.context_processors.sandbox`)."""

from integrations.registry import sandbox_services

HEADER = "X-Sandbox-Providers"


def sandbox_header_value() -> str:
    """"kyc=sandbox, payments=sandbox, …", or "" when no sandbox serves."""
    return ", ".join(f"{service}={provider}" for service, provider in sorted(sandbox_services().items()))


class SandboxNoticeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        value = sandbox_header_value()
        if value:
            response[HEADER] = value
        return response
