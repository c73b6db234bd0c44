"""Hand-written SQL on the hot paths (the buy, the ledger), with the ORM as the portable path.

The ORM spends longer compiling a short query than PostgreSQL spends running it (about
0.3–0.6 ms a query against ~0.25 ms for the round trip, measured in docs/benchmarks.md), so
the few statements every buy runs are written out for PostgreSQL. Their column lists come
from the models, so a new field cannot be left out. Every other database (SQLite, the
embedded default) takes the ORM path, and the tests run both on PostgreSQL.
"""

import functools

from django.db import connection
from django.db.models import Model


def use_hand_written_sql(enabled: bool) -> bool:
    """True where the hand-written statements apply: PostgreSQL, unless switched off."""
    return enabled and connection.vendor == "postgresql"


def model_columns(model: type[Model], alias: str) -> str:
    """`alias."col", …` for the model's concrete fields, in `_meta` order (what `fetch_models`
    expects first in each row)."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(field.column)}" for field in model._meta.concrete_fields)


def fetch_models(model: type[Model], sql: str, params: list) -> list[tuple[Model, tuple]]:
    """Run `sql`, whose rows start with `model_columns(model, …)`, and build one instance per
    row, with the row's remaining values beside it. PostgreSQL only: psycopg already returns
    what these fields hold (Decimal, aware datetimes), so no converters are needed."""
    names = _attnames(model)
    width = len(names)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [(model.from_db(connection.alias, names, row[:width]), row[width:]) for row in rows]


@functools.cache
def _attnames(model: type[Model]) -> list[str]:
    converted = [field.name for field in model._meta.concrete_fields if hasattr(field, "from_db_value")]
    if converted:
        raise TypeError(f"{model.__name__} has fields the ORM converts on read ({converted}); use the ORM.")
    return [field.attname for field in model._meta.concrete_fields]
