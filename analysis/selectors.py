"""Reads of analysis jobs (scoped to who may see them) and of creator embeddings (lookalikes)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import numpy as np
import psycopg
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from pgvector.django import CosineDistance

from analysis.embeddings import EMBEDDING_DIMENSIONS, embedding_version
from analysis.models import AnalysisJob, AnalysisJobEvent, ProfileEmbedding
from analysis.vectors import BYTES, BYTES_DTYPE, PGVECTOR, storage_mode
from config.errors import NotFound
from profiles.models import Profile, TeamProfileAccess
from profiles.selectors import Actor
from profiles.selectors.completeness import Completeness

Step = AnalysisJob.Step

# Which pipeline step repairs each completeness criterion (``profiles.selectors.completeness``).
CRITERION_STEP: dict[str, str] = {
    "counts": Step.SCRAPE,
    "biography": Step.SCRAPE,
    "posts_stored": Step.SCRAPE,
    "posts_analysed": Step.AI,
    "profile_analysed": Step.AI,
    "posts_thumbnails": Step.MEDIA,
}


def repair_steps(*, completeness: Completeness) -> list[str]:
    """The pipeline steps that would repair what ``completeness`` misses, in pipeline order."""
    needed = {CRITERION_STEP[name] for name in completeness.missing}
    return [str(step) for step in AnalysisJob.ALL_STEPS if step in needed]


# HNSW candidate list per search (pgvector's hnsw.ef_search, default 40): at least this, and
# LOOKALIKE_EF_FACTOR x limit, at most 1,000 (pgvector's maximum). From the measured sweep
# (bench/lookalike.py --parts ann, 1,000,000 vectors, m 16, ef_construction 64; bench/README.md):
# recall@20 was 0.82 at 100, 0.89 at 400, 0.96 at 600-800 and 0.97 at 1,000, with p95 under
# 25 ms at every value; 1,000 is the value that keeps a margin above the 0.95 target.
LOOKALIKE_EF_SEARCH = 1000
LOOKALIKE_EF_FACTOR = 4


def jobs_visible_to(*, actor: Actor) -> QuerySet[AnalysisJob]:
    """Jobs an actor may see: staff every job; a member the jobs started for their team and the
    jobs of creators their team unlocked (a team that joined a running job follows it too)."""
    jobs = AnalysisJob.objects.select_related("profile")
    if actor.is_staff:
        return jobs
    unlocked = TeamProfileAccess.objects.filter(team_id=actor.team_id, profile__username=OuterRef("username"))
    return jobs.filter(Q(team_id=actor.team_id) | Exists(unlocked))


def job_get(*, job_id: Any, actor: Actor) -> AnalysisJob:
    """One job the actor may see (404, never 403, for anyone else's job)."""
    job = jobs_visible_to(actor=actor).filter(pk=job_id).first()
    if job is None:
        raise NotFound("No such analysis job.", code="job_not_found")
    return job


def job_events_after(*, job: AnalysisJob, after_id: int = 0) -> list[AnalysisJobEvent]:
    return list(job.events.filter(id__gt=after_id).order_by("id"))


def job_active_for(*, username: str) -> AnalysisJob | None:
    return AnalysisJob.objects.filter(username=username, status__in=AnalysisJob.ACTIVE_STATUSES).first()


# --- Creator embeddings ---------------------------------------------------------------------


def _db_of(profile: Profile) -> str:
    return profile._state.db or DEFAULT_DB_ALIAS


def profile_embedding_current(*, profile: Profile) -> ProfileEmbedding | None:
    """The profile's embedding of the current ``embedding_version()``, or None."""
    return (
        ProfileEmbedding.objects.using(_db_of(profile))
        .filter(profile_id=profile.pk, version=embedding_version())
        .first()
    )


def profiles_with_embedding() -> QuerySet[Profile]:
    """Profiles that have an embedding of the current version (the lookalike-searchable ones)."""
    return Profile.objects.filter(embedding__version=embedding_version())


def embeddings_storage_mode(*, using: str = DEFAULT_DB_ALIAS) -> str:
    """``pgvector`` (HNSW, in the database), ``array`` or ``json`` (exact, numpy)."""
    return storage_mode(connections[using], ProfileEmbedding._meta.db_table, "vector")


def profile_lookalikes(
    *, profile: Profile, candidates: QuerySet[Profile] | None = None, limit: int = 20
) -> list[tuple[Profile, float]]:
    """The ``limit`` creators most similar to ``profile``, best first, with their cosine similarity.

    Only creators with an embedding of the current version are considered, never ``profile``
    itself; ``candidates`` (any ``Profile`` queryset, e.g. the browse filters) restricts them.
    Empty when ``profile`` has no current embedding (not analysed yet). With pgvector the
    database ranks them through the HNSW index (approximate; a filter that leaves fewer than
    ``limit`` hits is re-run exactly); otherwise every candidate's vector is ranked exactly
    with numpy. Ties are broken by profile id, so both paths give the same order.
    """
    if limit <= 0:
        return []
    db = _db_of(profile)
    own = profile_embedding_current(profile=profile)
    if own is None:
        return []
    rows = ProfileEmbedding.objects.using(db).filter(version=own.version).exclude(profile_id=profile.pk)
    if candidates is not None:
        rows = rows.filter(profile_id__in=candidates.values("pk"))
    mode = storage_mode(connections[db], ProfileEmbedding._meta.db_table, "vector")
    if mode == PGVECTOR:
        scored = _ranked_by_pgvector(rows, own.vector, limit=limit, db=db, filtered=candidates is not None)
    else:
        scored = _ranked_exactly(rows, own.vector, limit=limit, mode=mode)
    found = Profile.objects.using(db).in_bulk([profile_id for profile_id, _ in scored])
    return [(found[profile_id], score) for profile_id, score in scored if profile_id in found]


def _ranked_by_pgvector(
    rows: QuerySet[ProfileEmbedding], query: np.ndarray, *, limit: int, db: str, filtered: bool
) -> list[tuple[Any, float]]:
    # ORDER BY the distance alone, so that the planner can walk the HNSW index.
    ranked = rows.annotate(distance=CosineDistance("vector", [float(v) for v in query])).order_by("distance")
    ef_search = min(1000, max(LOOKALIKE_EF_SEARCH, LOOKALIKE_EF_FACTOR * limit))
    with transaction.atomic(using=db), connections[db].cursor() as cursor:
        cursor.execute(f"SET LOCAL hnsw.ef_search = {int(ef_search)}")
        found = list(ranked.values_list("profile_id", "distance")[:limit])
        if filtered and len(found) < limit:
            # The index scan filters after the fact: a narrow filter can leave too few hits.
            cursor.execute("SET LOCAL enable_indexscan = off")
            found = list(ranked.values_list("profile_id", "distance")[:limit])
            cursor.execute("SET LOCAL enable_indexscan = on")
    scored = [(profile_id, round(1.0 - float(distance), 6)) for profile_id, distance in found]
    return sorted(scored, key=lambda pair: (-pair[1], str(pair[0])))


# Rows per aggregated chunk of the bytea read: 20,000 vectors = 30 MB per row sent.
_BYTES_CHUNK_ROWS = 20_000


def _scored_bytes(rows: QuerySet[ProfileEmbedding], query: np.ndarray) -> tuple[_Uuids, np.ndarray]:
    """Every row's profile id and score, the ``bytea`` vectors read without a Python object each.

    PostgreSQL concatenates the ids (``uuid_send``, 16 bytes) and the vectors (raw float32) of
    each chunk of rows into two byte strings (``string_agg`` keeps both in the same row
    order), sent through a binary-format cursor (the text format would hex-encode them): the
    client turns each chunk into a numpy matrix at once and scores it. Only the winners'
    ids become ``UUID`` objects (in the caller).
    """
    try:
        sql, params = rows.values_list("profile_id", "vector").query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing (Django builds no SQL for it)
        return _Uuids(np.zeros(0, dtype="V16")), np.zeros(0, dtype=np.float32)
    chunked = (
        "SELECT string_agg(uuid_send(k), ''::bytea), string_agg(v, ''::bytea) "  # noqa: S608 (the ORM's SQL)
        f"FROM (SELECT k, v, (row_number() OVER ()) / {_BYTES_CHUNK_ROWS} AS chunk FROM ({sql}) AS q(k, v)) AS c "
        "GROUP BY chunk"
    )
    connection = connections[rows.db]
    connection.ensure_connection()
    ids: list[np.ndarray] = []
    scores: list[np.ndarray] = []
    # Django's cursors bind on the client, which has no binary results: a server-binding one.
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(chunked, params, binary=True)
        for id_blob, vector_blob in cursor:
            matrix = np.frombuffer(vector_blob, dtype=BYTES_DTYPE).reshape(-1, EMBEDDING_DIMENSIONS)
            if len(id_blob) != 16 * len(matrix):
                raise ValueError(f"stored vectors do not all have {EMBEDDING_DIMENSIONS} dimensions")
            scores.append(matrix.astype(np.float32) @ query)
            ids.append(np.frombuffer(id_blob, dtype="V16"))
    if not ids:
        return _Uuids(np.zeros(0, dtype="V16")), np.zeros(0, dtype=np.float32)
    return _Uuids(np.concatenate(ids)), np.concatenate(scores)


class _Uuids:
    """16-byte ids in one numpy array; a ``UUID`` is made only for the ones looked up."""

    def __init__(self, raw: np.ndarray) -> None:
        self.raw = raw

    def __len__(self) -> int:
        return len(self.raw)

    def __getitem__(self, index: int) -> uuid.UUID:
        return uuid.UUID(bytes=self.raw[index].tobytes())


def _ranked_exactly(
    rows: QuerySet[ProfileEmbedding], query: np.ndarray, *, limit: int, mode: str
) -> list[tuple[Any, float]]:
    query = np.asarray(query, dtype=np.float32)
    if mode == BYTES:
        keys, scores = _scored_bytes(rows, query)
    else:  # JSON text (SQLite): the ORM reads each vector
        pairs = list(rows.values_list("profile_id", "vector"))
        matrix = np.stack([v for _, v in pairs]) if pairs else np.zeros((0, EMBEDDING_DIMENSIONS), np.float32)
        keys, scores = [key for key, _ in pairs], matrix @ query
    if not keys:
        return []
    count = min(limit, len(keys))
    top = np.argpartition(-scores, count - 1)[:count] if count < len(keys) else np.arange(len(keys))
    order = sorted(top.tolist(), key=lambda i: (-round(float(scores[i]), 6), str(keys[i])))
    return [(keys[i], round(float(scores[i]), 6)) for i in order]


def report_similar_creators(profile: Profile, limit: int = 5) -> list[dict[str, Any]]:
    """The report's "similar creators": the ``limit`` best analysed lookalikes, preview fields."""
    analysed = Profile.objects.using(_db_of(profile)).filter(ai_profile_analyzed_at__isnull=False)
    return [
        {
            "username": other.username,
            "full_name": other.full_name,
            "avatar_url": other.cdn_avatar_url or None,
            "followers_count": other.followers_count,
            "primary_category": other.ai_primary_content_type or None,
            "similarity": similarity,
        }
        for other, similarity in profile_lookalikes(profile=profile, candidates=analysed, limit=limit)
    ]


# Failures after which there is nothing to deliver: the account does not exist or is private.
NOTHING_TO_DELIVER = frozenset({"not_found", "private"})


def job_unavailable_for(*, username: str) -> AnalysisJob | None:
    """The failed job remembered for ``username`` when its account was missing or private.

    Only while the latest job of that username is such a failure, ended less than
    ``UNLOCK_UNAVAILABLE_REMEMBER_SECONDS`` ago (a later job, e.g. a staff re-analysis, wins).
    """
    seconds = settings.UNLOCK_UNAVAILABLE_REMEMBER_SECONDS
    if seconds <= 0:
        return None
    latest = AnalysisJob.objects.filter(username=username).order_by("-created_at").first()
    if (
        latest is None
        or latest.status != AnalysisJob.Status.FAILED
        or latest.error_category not in NOTHING_TO_DELIVER
        or latest.finished_at is None
        or latest.finished_at < timezone.now() - timedelta(seconds=seconds)
    ):
        return None
    return latest
