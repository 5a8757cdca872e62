"""A PostgreSQL 16 with pgvector (the PyPI package ``pgserver``) as an extra database alias.

The session fixture ``pgvector_db`` starts pgserver on a temporary directory (a Unix socket,
no TCP port), creates a database there, registers it as the alias ``pgvector`` and runs every
migration on it, so that the pgvector storage path (``vector(384)`` + HNSW) is exercised for
real whatever the main test database is. Skipped with the reason when pgserver is not
installed.
"""

from __future__ import annotations

import copy
import logging
from urllib.parse import parse_qs, urlparse

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections

ALIAS = "pgvector"


@pytest.fixture(scope="session")
def pgvector_db(django_db_setup, django_db_blocker, tmp_path_factory):
    pgserver = pytest.importorskip("pgserver", reason="pgserver (PostgreSQL 16 + pgvector) is not installed")
    from analysis.vectors import forget_storage_modes

    logging.getLogger("pgserver").setLevel(logging.WARNING)  # its exit messages outlive pytest's streams
    server = pgserver.get_server(tmp_path_factory.mktemp("pgserver"), cleanup_mode="stop")
    server.psql("CREATE DATABASE ca_embed_pgvector;")
    socket_dir = parse_qs(urlparse(server.get_uri()).query)["host"][0]
    config = copy.deepcopy(connections["default"].settings_dict)
    config.update(
        ENGINE="django.db.backends.postgresql",
        NAME="ca_embed_pgvector",
        USER="postgres",
        PASSWORD="",
        HOST=socket_dir,
        PORT="",
        OPTIONS={},
        TEST={"NAME": "ca_embed_pgvector"},
    )
    config = connections.configure_settings({"default": connections["default"].settings_dict, ALIAS: config})[ALIAS]
    settings.DATABASES[ALIAS] = config
    connections.settings[ALIAS] = config
    try:
        with django_db_blocker.unblock():
            call_command("migrate", database=ALIAS, verbosity=0, interactive=False)
        yield ALIAS
    finally:
        connections[ALIAS].close()
        del connections[ALIAS]
        connections.settings.pop(ALIAS, None)
        settings.DATABASES.pop(ALIAS, None)
        forget_storage_modes()
        server.cleanup()
