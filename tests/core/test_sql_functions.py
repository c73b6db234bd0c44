"""The hand-written SQL (STYLE.md 13) cannot drift from what it mirrors:

- every `.sql` file is loaded by a migration, and the newest migration that loads it records
  the file's digest (a changed file without a migration to load it again fails here, where
  `makemigrations --check` stays green);
- on PostgreSQL, each function the files define is installed once (no stale overload
  beside it) with exactly the file's body;
- every `INSERT INTO table (columns)` in the files names columns the model that owns the table
  has, and every one of them that cannot be null (a required field added to the model fails
  here, not in production);
- the arguments Python passes by name are the function's arguments.
"""

import hashlib
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.special import SeparateDatabaseAndState
from django.db.models import NOT_PROVIDED

from core.migration_operations import LoadSQLFile
from tests.conftest import requires_postgres

ROOT = Path(settings.BASE_DIR)
SQL_FILES = sorted(path.relative_to(ROOT).as_posix() for path in ROOT.glob("*/**/*.sql")
                   if ".venv" not in path.parts and "node_modules" not in path.parts)
FUNCTION = re.compile(r"CREATE OR REPLACE FUNCTION (\w+)\(")
INSERT = re.compile(r"INSERT INTO (\w+) \(([^)]*)\)")


def _loaders_in_order() -> list[LoadSQLFile]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    plan: list = []
    for leaf in sorted(loader.graph.leaf_nodes()):
        plan += [node for node in loader.graph.forwards_plan(leaf) if node not in plan]

    def walk(operations):
        for operation in operations:
            if isinstance(operation, LoadSQLFile):
                yield operation
            elif isinstance(operation, SeparateDatabaseAndState):
                yield from walk(operation.database_operations)

    return [operation for node in plan for operation in walk(loader.graph.nodes[node].operations)]


def _digest(path: str) -> str:
    return hashlib.sha256((ROOT / path).read_bytes()).hexdigest()


def test_there_are_sql_files_to_check():
    assert {"trading/settlement/settle.sql", "kyc/gate/trader.sql", "wallet/posting/post_entry.sql",
            "wallet/posting/hold_take.sql"} <= set(SQL_FILES), SQL_FILES


@pytest.mark.parametrize("path", SQL_FILES)
def test_the_newest_migration_loading_a_file_records_its_digest(path):
    loaders = [operation for operation in _loaders_in_order() if operation.path == path]
    assert loaders, f"{path} is not loaded by any migration (core.migration_operations.LoadSQLFile)"
    assert loaders[-1].sha256 == _digest(path), (
        f"{path} changed since the newest migration that loads it: add a migration with "
        f"LoadSQLFile({path!r}, sha256={_digest(path)!r}).")


def _functions(path: str) -> dict[str, str]:
    """Function name → its body (between the $$), as the file defines it."""
    text = (ROOT / path).read_text(encoding="utf-8")
    bodies = {}
    for match in FUNCTION.finditer(text):
        start = text.index("$$", match.end()) + 2
        bodies[match.group(1)] = text[start:text.index("$$", start)]
    return bodies


@requires_postgres
@pytest.mark.django_db
@pytest.mark.parametrize("path", SQL_FILES)
def test_each_function_is_installed_once_with_the_files_body(path):
    functions = _functions(path)
    assert functions, f"{path} defines no function"
    for name, body in functions.items():
        with connection.cursor() as cursor:
            cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = %s", [name])
            installed = [row[0] for row in cursor.fetchall()]
        assert len(installed) == 1, f"{name}: {len(installed)} functions installed (a stale overload?)"
        assert installed[0] == body, f"{name}: the installed body is not {path}'s"


def _owner(table: str):
    return next((model for model in apps.get_models() if model._meta.db_table == table), None)


@pytest.mark.parametrize("path", SQL_FILES)
def test_every_insert_names_every_required_column_of_its_model(path):
    text = (ROOT / path).read_text(encoding="utf-8")
    inserts = INSERT.findall(text)
    for table, listed in inserts:
        model = _owner(table)
        assert model is not None, f"{path}: no model owns {table}"
        fields = [field for field in model._meta.concrete_fields if not field.primary_key]
        named = {column.strip() for column in listed.split(",")}
        assert named <= {field.column for field in fields}, f"{path}: {table} has no column(s) {named}"
        missing = {field.column for field in fields if not field.null and field.db_default is NOT_PROVIDED} - named
        assert not missing, f"{path}: INSERT INTO {table} leaves out required {missing} (the model has them)"


def _python_arguments() -> dict[str, set[str]]:
    from kyc.gate import trader_gate_sql
    from trading.settlement.sql import ARGUMENTS as SETTLE
    from wallet.posting.sql import ARGUMENTS as POST_ENTRY

    gate = set(re.findall(r"(p_\w+) =>", trader_gate_sql(placeholder="%(user)s")))
    return {"trading_settle": {"p_buyer", *SETTLE}, "wallet_post_entry": set(POST_ENTRY), "kyc_trader": gate}


@requires_postgres
@pytest.mark.django_db
@pytest.mark.parametrize("function", ["trading_settle", "wallet_post_entry", "kyc_trader"])
def test_the_arguments_python_names_are_the_functions_arguments(function):
    with connection.cursor() as cursor:
        cursor.execute("SELECT proargnames, proargmodes FROM pg_proc WHERE proname = %s", [function])
        names, modes = cursor.fetchone()
    inputs = [name for name, mode in zip(names, modes or ["i"] * len(names), strict=True) if mode == "i"]
    assert set(inputs) == _python_arguments()[function]
