"""`<id:name>` in URL patterns: an object id, 1 to 18 digits.

Django's `<int:…>` takes any number of digits, and an id past PostgreSQL's bigint reached a
hand-written statement as a 500 ("bigint out of range"). No key is ever that long, so such a
path matches nothing and is the API's 404. Every integer in a path uses this converter
(tests/security/test_input_limits.py checks the URL patterns)."""


class ObjectIdConverter:
    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))
