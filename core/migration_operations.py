"""Migration operations shared by the apps' migrations."""

from django.db import migrations


class RunSQLOnPostgres(migrations.RunSQL):
    """SQL only PostgreSQL runs (triggers, `NOT VALID` checks…); nothing on SQLite, the
    embedded default. Each of `sql` and `reverse_sql` is one statement or a list of them, each
    run as given (a function body with `$$` is not split), in the migration's transaction or,
    in a non-atomic migration, each in its own."""

    def __init__(self, sql, reverse_sql, **kwargs):
        super().__init__(sql=self._statements(sql), reverse_sql=self._statements(reverse_sql), **kwargs)

    @staticmethod
    def _statements(sql) -> list[str]:
        return [sql] if isinstance(sql, str) else list(sql)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class AddIndexConcurrentlyOnPostgres(migrations.AddIndex):
    """`CREATE INDEX CONCURRENTLY` on PostgreSQL, so writers keep writing while a big table's
    index builds (a plain `CREATE INDEX` holds them back for the whole build); a plain one
    elsewhere (SQLite builds none concurrently). Needs a non-atomic migration."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.add_index(model, self.index, **self._concurrently(schema_editor))

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            schema_editor.remove_index(model, self.index, **self._concurrently(schema_editor))

    @staticmethod
    def _concurrently(schema_editor) -> dict:
        return {"concurrently": True} if schema_editor.connection.vendor == "postgresql" else {}


class LoadSQLFile(migrations.RunSQL):
    """Load a `.sql` file of database functions (`CREATE OR REPLACE FUNCTION …`) on PostgreSQL;
    nothing on SQLite. The function's body lives in the file, beside the Python it mirrors
    (STYLE.md 13), never in a migration.

    `sha256` is the file's digest when the migration was written. Each change of a file
    needs a new migration that loads it again (recording the new digest), since an applied
    migration never runs twice; tests/core/test_sql_functions.py fails while the newest
    loader of a file records another digest, and checks that the installed functions are
    the file's. An older migration loads the file as it is now, which is safe because the
    files hold PL/pgSQL only: its statements are resolved when the function first runs, not
    when it is created, so a table renamed by a later migration is no obstacle.

    `drop`: statements run before the file (e.g. `DROP FUNCTION IF EXISTS` of a signature the
    file no longer has: `CREATE OR REPLACE` would otherwise add an overload beside it);
    `reverse_sql`: what undoes it (DROP, or loading nothing)."""

    def __init__(self, path: str, *, sha256: str, drop=(), reverse_sql=()):
        self.path, self.sha256, self.drop = path, sha256, list(drop)
        super().__init__(sql=[], reverse_sql=list(reverse_sql) or migrations.RunSQL.noop)

    def deconstruct(self):
        return self.__class__.__qualname__, [self.path], {"sha256": self.sha256, "drop": self.drop}

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            return
        from pathlib import Path

        from django.conf import settings

        for statement in self.drop:
            schema_editor.execute(statement, params=None)
        # params=None: the file is sent as it is (no %-interpolation of its text).
        schema_editor.execute((Path(settings.BASE_DIR) / self.path).read_text(encoding="utf-8"), params=None)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql" and self.reverse_sql is not migrations.RunSQL.noop:
            for statement in self.reverse_sql:
                schema_editor.execute(statement, params=None)

    def describe(self):
        return f"Load {self.path} (PostgreSQL)"
