"""Embedding storage and lookalike search on every storage path.

The default test database gives the fallback (JSON on SQLite, ``bytea`` of raw float32 on a
PostgreSQL without pgvector, ranked exactly with numpy); the ``pgvector`` alias (pgserver, PostgreSQL
16 + pgvector) gives ``vector(384)`` searched through the HNSW index. The same data must give
the same lookalikes on both.
"""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connections

from analysis.embeddings import EMBEDDING_DIMENSIONS, embedding_version
from analysis.models import ProfileEmbedding
from analysis.selectors import embeddings_storage_mode, profile_lookalikes
from analysis.vectors import as_unit_vector
from profiles.models import Profile

BOTH = ["default", "pgvector"]


def _vectors(count: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # Clustered, so that neighbours are meaningful and well separated.
    centres = rng.normal(size=(5, EMBEDDING_DIMENSIONS))
    rows = centres[np.arange(count) % 5] + 0.6 * rng.normal(size=(count, EMBEDDING_DIMENSIONS))
    return np.stack([as_unit_vector(row) for row in rows])


def _populate(db: str, vectors: np.ndarray, *, version: str | None = None) -> list[Profile]:
    profiles = []
    for i, vector in enumerate(vectors):
        profile = Profile.objects.db_manager(db).create(
            username=f"creator_{i:03d}", followers_count=1000 * (i + 1), ai_primary_content_type="Music"
        )
        ProfileEmbedding.objects.using(db).create(
            profile=profile, vector=vector, version=version or embedding_version(), source_hash="x"
        )
        profiles.append(profile)
    return profiles


def _exact_top(vectors: np.ndarray, index: int, k: int) -> list[int]:
    scores = vectors @ vectors[index]
    scores[index] = -np.inf
    return [int(i) for i in np.argsort(-scores, kind="stable")[:k]]


@pytest.mark.django_db
def test_fallback_ranks_exactly_with_numpy():
    vectors = _vectors(40)
    profiles = _populate("default", vectors)
    mode = embeddings_storage_mode()
    assert mode == ("json" if connections["default"].vendor == "sqlite" else "bytes")

    found = profile_lookalikes(profile=profiles[3], limit=10)

    assert [p.username for p, _ in found] == [profiles[i].username for i in _exact_top(vectors, 3, 10)]
    expected = [round(float(vectors[i] @ vectors[3]), 6) for i in _exact_top(vectors, 3, 10)]
    assert [score for _, score in found] == pytest.approx(expected, abs=1e-5)
    assert profiles[3] not in [p for p, _ in found]


@pytest.mark.django_db
def test_vectors_round_trip_as_float32_unit_vectors():
    vector = as_unit_vector(np.arange(EMBEDDING_DIMENSIONS, dtype=np.float32) - 100)
    [profile] = _populate("default", vector[None, :])
    stored = ProfileEmbedding.objects.get(profile=profile).vector
    assert stored.dtype == np.float32
    np.testing.assert_array_equal(stored, vector)


@pytest.mark.django_db
def test_candidates_limit_the_search_and_other_versions_are_ignored():
    vectors = _vectors(30)
    profiles = _populate("default", vectors)
    stale = Profile.objects.create(username="stale_one")
    ProfileEmbedding.objects.create(profile=stale, vector=vectors[0], version="emb:old-model:r0", source_hash="x")

    allowed = Profile.objects.filter(followers_count__lte=10_000)  # creator_000 .. creator_009
    found = profile_lookalikes(profile=profiles[0], candidates=allowed, limit=50)

    assert {p.username for p, _ in found} == {f"creator_{i:03d}" for i in range(1, 10)}
    everyone = profile_lookalikes(profile=profiles[0], limit=100)
    assert stale not in [p for p, _ in everyone] and len(everyone) == 29


@pytest.mark.django_db
def test_a_profile_without_a_current_embedding_has_no_lookalikes():
    _populate("default", _vectors(5))
    unanalysed = Profile.objects.create(username="not_analysed")
    assert profile_lookalikes(profile=unanalysed, limit=5) == []


@pytest.mark.django_db(databases=BOTH)
def test_pgvector_path_uses_vector_column_and_hnsw_index(pgvector_db):
    assert embeddings_storage_mode(using=pgvector_db) == "pgvector"
    with connections[pgvector_db].cursor() as cursor:
        cursor.execute(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid = 'analysis_profileembedding'::regclass AND attname = 'vector'"
        )
        assert cursor.fetchone()[0] == "vector(384)"
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'analysis_profile_embedding_hnsw'")
        assert "USING hnsw (vector vector_cosine_ops)" in cursor.fetchone()[0]

    vectors = _vectors(60)
    profiles = _populate(pgvector_db, vectors)
    found = profile_lookalikes(profile=profiles[7], limit=10)
    assert [p.username for p, _ in found] == [profiles[i].username for i in _exact_top(vectors, 7, 10)]
    assert all(p._state.db == pgvector_db for p, _ in found)

    # A narrow filter still returns every matching candidate (re-run exactly when the index misses).
    allowed = Profile.objects.using(pgvector_db).filter(username__in=["creator_050", "creator_051"])
    assert {p.username for p, _ in profile_lookalikes(profile=profiles[7], candidates=allowed, limit=5)} == {
        "creator_050",
        "creator_051",
    }


@pytest.mark.django_db(databases=BOTH)
def test_same_top5_on_both_storage_paths(pgvector_db):
    vectors = _vectors(80, seed=11)
    fallback = _populate("default", vectors)
    indexed = _populate(pgvector_db, vectors)
    assert embeddings_storage_mode() != "pgvector"
    for i in (0, 13, 42, 79):
        a = profile_lookalikes(profile=fallback[i], limit=5)
        b = profile_lookalikes(profile=indexed[i], limit=5)
        assert [p.username for p, _ in a] == [p.username for p, _ in b]
        assert [s for _, s in a] == pytest.approx([s for _, s in b], abs=1e-5)


@pytest.mark.django_db
@pytest.mark.skipif(connections["default"].vendor != "postgresql", reason="SQLITE: no real[] columns to convert")
def test_real_arrays_of_an_older_database_are_converted_to_the_same_bytes():
    from django.db import connection

    from analysis.vectors import BYTES, ConvertArraysToBytes, EmbeddingField, forget_storage_modes, storage_mode

    vectors = _vectors(3)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE legacy_vectors (id int PRIMARY KEY, vector real[] NOT NULL)")
        for i, vector in enumerate(vectors):
            cursor.execute("INSERT INTO legacy_vectors VALUES (%s, %s)", [i, [float(v) for v in vector]])
    forget_storage_modes()
    assert storage_mode(connection, "legacy_vectors", "vector") == "array"
    with connection.schema_editor() as editor:
        ConvertArraysToBytes(tables=["legacy_vectors"]).database_forwards("analysis", editor, None, None)
        ConvertArraysToBytes(tables=["legacy_vectors"]).database_forwards("analysis", editor, None, None)  # no-op
    assert storage_mode(connection, "legacy_vectors", "vector") == BYTES
    with connection.cursor() as cursor:
        cursor.execute("SELECT vector FROM legacy_vectors ORDER BY id")
        stored = [row[0] for row in cursor.fetchall()]
    field = EmbeddingField(dimensions=EMBEDDING_DIMENSIONS)
    for blob, vector in zip(stored, vectors, strict=True):
        np.testing.assert_array_equal(field.from_db_value(blob, None, connection), vector.astype(np.float32))
        assert bytes(blob) == vector.astype(">f4").tobytes()  # what EmbeddingField writes
