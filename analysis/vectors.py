"""Embedding storage on every database: pgvector where it exists, raw bytes or JSON elsewhere.

``EmbeddingField`` is pgvector's Django ``VectorField`` whose column type follows the
database it is created on:

- PostgreSQL where ``CREATE EXTENSION vector`` succeeded (migration ``0002`` tries it in a
  savepoint): ``vector(<dimensions>)``, with an HNSW index (cosine distance) on profile
  embeddings, searched by the database (``<=>``).
- PostgreSQL without the extension (e.g. PostgreSQL 15 without pgvector): ``bytea`` holding
  the raw float32 values (big-endian, 4 bytes each), read back in bulk through a binary
  cursor straight into one numpy matrix and ranked exactly with numpy. (Columns created as
  ``real[]`` before are converted by migration ``0006``.)
- SQLite and anything else: JSON text, ranked exactly with numpy.

Which one a table uses is read from its actual column (``storage_mode``), not from whether
the extension exists now: a database that gains pgvector after the migration keeps its
``bytea`` columns (and keeps working) until the column is converted. Nothing here imports torch.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
from django.db.migrations.operations.base import Operation
from pgvector.django import VectorField

logger = logging.getLogger(__name__)

PGVECTOR = "pgvector"
BYTES = "bytes"
ARRAY = "array"  # real[]: the PostgreSQL fallback before bytea (migration 0006 converts it)
JSON = "json"
BYTES_DTYPE = ">f4"  # float4send's order, so that SQL can build the same bytes


def _cache_key(connection: Any) -> tuple[str, str, str, str]:
    s = connection.settings_dict
    return (connection.alias, str(s.get("HOST") or ""), str(s.get("PORT") or ""), str(s.get("NAME") or ""))


_vector_type: dict[tuple[str, str, str, str], bool] = {}
_modes: dict[tuple[tuple[str, str, str, str], str, str], str] = {}


def vector_type_available(connection: Any) -> bool:
    """Whether the ``vector`` type exists in this database (pgvector is installed in it)."""
    if connection.vendor != "postgresql":
        return False
    key = _cache_key(connection)
    if key not in _vector_type:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_type WHERE typname = 'vector'")
            _vector_type[key] = cursor.fetchone() is not None
    return _vector_type[key]


def forget_storage_modes() -> None:
    """Drop the cached answers (after creating the extension, or in tests)."""
    _vector_type.clear()
    _modes.clear()


def storage_mode(connection: Any, table: str, column: str) -> str:
    """How ``table.column`` stores vectors on ``connection``: pgvector, bytes, json (or array: a
    ``real[]`` column that migration 0006 converts)."""
    if connection.vendor != "postgresql":
        return JSON
    key = (_cache_key(connection), table, column)
    mode = _modes.get(key)
    if mode is None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
                "WHERE a.attrelid = to_regclass(%s) AND a.attname = %s",
                [connection.ops.quote_name(table), column],
            )
            row = cursor.fetchone()
        if row is None:  # the table is being created: it will follow the extension
            return PGVECTOR if vector_type_available(connection) else BYTES
        mode = {"vector": PGVECTOR, "bytea": BYTES}.get(row[0], ARRAY)
        _modes[key] = mode
    return mode


def as_unit_vector(values: Any) -> np.ndarray:
    """``values`` as a float32 vector of norm 1 (a zero vector stays zero)."""
    vector = np.asarray(values, dtype=np.float32).reshape(-1)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


class EmbeddingField(VectorField):
    """pgvector's ``VectorField`` that falls back to ``bytea`` (PostgreSQL) or JSON text.

    Python values are float32 numpy arrays (or None); lists and arrays are accepted.
    """

    def db_type(self, connection: Any) -> str:
        if connection.vendor == "postgresql":
            return super().db_type(connection) if vector_type_available(connection) else "bytea"
        return "text"

    def _mode(self, connection: Any) -> str:
        return storage_mode(connection, self.model._meta.db_table, self.column)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> np.ndarray | None:
        if value is None:
            return None
        if isinstance(value, (bytes, memoryview)):
            return np.frombuffer(value, dtype=BYTES_DTYPE).astype(np.float32)
        if isinstance(value, str):
            value = json.loads(value) if connection.vendor != "postgresql" else super().from_db_value(value, None, None)
        return np.asarray(value, dtype=np.float32)

    def to_python(self, value: Any) -> np.ndarray | None:
        if value is None or isinstance(value, np.ndarray):
            return value
        if isinstance(value, str):
            value = json.loads(value)
        return np.asarray(value, dtype=np.float32)

    def get_prep_value(self, value: Any) -> Any:
        return value  # converted per database in get_db_prep_value

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        if value is None:
            return None
        values = [float(v) for v in np.asarray(value, dtype=np.float32).reshape(-1)]
        if self.dimensions is not None and len(values) != self.dimensions:
            raise ValueError(f"expected {self.dimensions} dimensions, got {len(values)}")
        if connection.vendor != "postgresql":
            return json.dumps(values)
        if self._mode(connection) == PGVECTOR:
            return super().get_prep_value(values)
        return np.asarray(values, dtype=BYTES_DTYPE).tobytes()

    def value_to_string(self, obj: Any) -> str:
        value = self.value_from_object(obj)
        return "" if value is None else json.dumps([float(v) for v in value])


# --- migration operations (each only acts on PostgreSQL) ------------------------------------


class _DatabaseOperation(Operation):
    """A migration operation on the database alone (no model state changes)."""

    reversible = True
    reduces_to_sql = False

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass


class CreateVectorExtensionIfAvailable(_DatabaseOperation):
    """``CREATE EXTENSION IF NOT EXISTS vector`` in a savepoint; a failure only means "no pgvector"."""

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        from django.db import DatabaseError, transaction

        try:
            with transaction.atomic(using=connection.alias):
                with connection.cursor() as cursor:
                    cursor.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except DatabaseError as exc:
            logger.warning("pgvector is not available (%s): embeddings are stored as bytea", str(exc).strip())
        forget_storage_modes()

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        pass  # other tables may use the extension: it stays

    def describe(self) -> str:
        return "Create the pgvector extension when the database offers it"


class CreateHnswIndexIfVector(_DatabaseOperation):
    """An HNSW index (cosine distance) on ``table.column`` when the column is a pgvector ``vector``."""

    reversible = True
    reduces_to_sql = False

    def __init__(self, *, table: str, column: str, name: str, m: int = 16, ef_construction: int = 64) -> None:
        self.table, self.column, self.name = table, column, name
        self.m, self.ef_construction = m, ef_construction

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs = {"table": self.table, "column": self.column, "name": self.name, "m": self.m}
        kwargs["ef_construction"] = self.ef_construction
        return self.__class__.__qualname__, [], kwargs

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        connection = schema_editor.connection
        if connection.vendor != "postgresql" or storage_mode(connection, self.table, self.column) != PGVECTOR:
            return
        quote = connection.ops.quote_name
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {quote(self.name)} ON {quote(self.table)} USING hnsw "
            f"({quote(self.column)} vector_cosine_ops) WITH (m = {int(self.m)}, ef_construction = "
            f"{int(self.ef_construction)})"
        )

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.connection.ops.quote_name(self.name)}")

    def describe(self) -> str:
        return f"HNSW cosine index {self.name} on {self.table}.{self.column} (pgvector only)"


class ConvertArraysToBytes(_DatabaseOperation):
    """Convert ``real[]`` vector columns (the PostgreSQL fallback before) to ``bytea``.

    ``array_send`` of 100,000 ``real[384]`` took 1.3 s in the server and came back hex-encoded;
    ``bytea`` of raw float32 is read as it is stored. The bytes are each element's
    ``float4send`` in order, which is what ``EmbeddingField`` writes. Nothing happens on other
    databases or on columns that are already ``vector`` or ``bytea``.
    """

    reversible = True
    reduces_to_sql = False

    def __init__(self, *, tables: list[str], column: str = "vector") -> None:
        self.tables, self.column = list(tables), column

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return self.__class__.__qualname__, [], {"tables": self.tables, "column": self.column}

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        connection = schema_editor.connection
        if connection.vendor != "postgresql":
            return
        quote = connection.ops.quote_name
        for table in self.tables:
            if storage_mode(connection, table, self.column) != ARRAY:
                continue
            t, c, new = quote(table), quote(self.column), quote(f"{self.column}_bytes")
            schema_editor.execute(f"ALTER TABLE {t} ADD COLUMN {new} bytea")
            schema_editor.execute(  # identifiers quoted, from the migration; no input
                f"UPDATE {t} SET {new} = (SELECT string_agg(float4send(x), ''::bytea ORDER BY i) "  # noqa: S608
                f"FROM unnest({c}) WITH ORDINALITY AS u(x, i))"
            )
            schema_editor.execute(f"ALTER TABLE {t} DROP COLUMN {c}")
            schema_editor.execute(f"ALTER TABLE {t} RENAME COLUMN {new} TO {c}")
            schema_editor.execute(f"ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL")
        forget_storage_modes()

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        pass  # bytea reads and writes as well as real[] did: nothing to undo

    def describe(self) -> str:
        return f"Convert real[] vector columns of {', '.join(self.tables)} to bytea (PostgreSQL without pgvector)"
