"""The one JSON parser of the API: bounded in size and depth, strict about text.

DRF's `JSONParser` reads a body of any size, recurses as deep as the body nests (a few
thousand `[` raise `RecursionError`, a 500) and lets a lone surrogate (`"\\ud800"`) through,
which then fails wherever the text is encoded: PostgreSQL, the log, the error message that
quotes it back. This parser refuses all of that before any view sees the data:

- more than `API_JSON_MAX_BYTES` → 413 `request_too_large` (read no further);
- not UTF-8, not JSON, `NaN`/`Infinity`, an integer literal longer than Python will convert
  → 400 `parse_error`;
- nested deeper than `API_JSON_MAX_DEPTH` → 400 `parse_error`;
- a lone surrogate or a NUL character in any string or key → 400 `parse_error`.

Every JSON endpoint uses it (the `DEFAULT_PARSER_CLASSES` setting, and views that name their
parsers name this one; tests/security/test_input_limits.py walks every view to check).
"""

import json

from django.conf import settings
from rest_framework import renderers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from core.errors import RequestTooLarge


def _checked(data, *, max_depth: int) -> None:
    """Walk the parsed value once, without recursion: depth, and every string and key."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > max_depth:
                raise ParseError(f"JSON parse error - nested deeper than {max_depth} levels.")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    _check_text(key)
                stack.append((item, depth + 1))
        elif isinstance(value, str):
            _check_text(value)


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise ParseError("JSON parse error - a string contains a NUL character.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ParseError("JSON parse error - a string contains a lone surrogate (not valid Unicode).") from None


def json_loads_bounded(raw: bytes, *, max_depth: int | None = None):
    """Parse `raw` (bytes already within the size limit) under the rules above."""
    max_depth = settings.API_JSON_MAX_DEPTH if max_depth is None else max_depth
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ParseError("JSON parse error - the body is not UTF-8.") from None
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise ParseError(f"JSON parse error - nested deeper than {max_depth} levels.") from None
    except ValueError as exc:  # JSONDecodeError, and an integer literal past Python's digit limit
        raise ParseError(f"JSON parse error - {str(exc)[:200]}") from None
    _checked(data, max_depth=max_depth)
    return data


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


class BoundedJSONParser(BaseParser):
    media_type = "application/json"
    renderer_class = renderers.JSONRenderer

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.API_JSON_MAX_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise RequestTooLarge(f"The JSON body is larger than {limit} bytes.")
        if not raw.strip():
            raise ParseError("JSON parse error - the body is empty.")
        return json_loads_bounded(raw)
