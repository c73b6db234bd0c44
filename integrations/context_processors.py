from integrations.middleware import sandbox_header_value


def sandbox(request) -> dict:
    """`sandbox_providers` for the admin's banner (templates/admin/base_site.html)."""
    return {"sandbox_providers": sandbox_header_value()}
