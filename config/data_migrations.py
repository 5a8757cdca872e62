"""Running a data migration's ``RunPython`` function outside ``migrate``.

The project's data migrations read their database from ``schema_editor.connection``. Code that
must run one of them again, after ``flush`` (``credits.seed``) or in a test whose beat tables a
transactional test emptied, calls ``data_migration_run`` instead of building a schema-editor
stand-in of its own.
"""

from __future__ import annotations

import importlib
from types import SimpleNamespace
from typing import Any

from django.apps import apps as global_apps
from django.db import DEFAULT_DB_ALIAS, connections


def data_migration_run(module: str, function: str, *, apps: Any = global_apps, using: str = DEFAULT_DB_ALIAS) -> None:
    """Call ``function(apps, schema_editor)`` of the migration module ``module`` on ``using``."""
    editor = SimpleNamespace(connection=connections[using])  # all the functions read from it
    getattr(importlib.import_module(module), function)(apps, editor)
