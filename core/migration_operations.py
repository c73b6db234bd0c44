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
