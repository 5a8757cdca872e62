"""Lookalike search and the embedding model: quality, speed, ANN vs exact, memory (issue 14).

Usage::

    .venv/bin/python bench/lookalike.py [--parts quality,speed,stage,ann,fallback] [--quick]
        [--vectors 1000000] [--queries 200] [--fallback-rows 120000]
        [--hnsw-m 16] [--hnsw-ef-construction 64] [--ef-sweep 40,200,400,800]
        [--shared-buffers 6GB] [--ann-dir DIR]

Parts (each bounded; the whole run takes minutes, most of it building the 1M-vector index):

- ``quality``: the real creators (the 45-creator export + @humansofny): each creator's
  posts go through the embeddings engine and the rule engine (primary category = the
  pipeline's ``primary_category`` over its posts), its vector through the profile recipe
  (``analysis.embeddings``). **precision@5** = the share of a creator's 5 nearest creators
  (exact cosine, itself excluded) with the same primary category, averaged over creators;
  against the **random** baseline, the exact expectation of the same share for 5 creators
  drawn at random ((same-category creators - 1) / (n - 1), averaged). Both with the
  embeddings engine's categories and with the rule engine's (labels that do not come from
  the embeddings themselves).
- ``speed``: embeddings per second of ``AI_EMBEDDING_MODEL`` on 2 threads, batched
  (``AI_EMBEDDING_BATCH_SIZE``), over 2,000 training tweets; model load time.
- ``stage``: the AI stage of a new 12-post creator (@humansofny through the real pipeline
  on a throwaway SQLite database, ``AI_ENGINE=embeddings``: engine + post and profile
  embeddings + aggregation), first run (model loaded before) and again from scratch; and
  the **AI worker's peak RSS**: the larger of the peak while the models load and the peak
  during the AI steps (``VmHWM``, reset through ``/proc/self/clear_refs`` before each; the
  scrape and media steps that this one process also runs belong to other workers in a
  deployment: the whole process's peak is reported beside it). With
  ``--with-transformers`` the transformer engine runs instead, in fast mode (int8) with
  models of the real sizes (random weights, ``bench/_models.py``), next to the standalone
  embedding model: the AI stage and peak RSS of a worker with every model. Its NLI
  shortlist is the settings' (fast mode: 5 categories by evidence, then embedding
  similarity); ``--top-k 0`` asks about all 20 categories (exact zero-shot).
- ``ann``: top-20 over N (default 1,000,000) vectors in PostgreSQL 16 + pgvector 0.6.2
  (pgserver, a temporary directory, Unix socket): HNSW (``--hnsw-m`` 16,
  ``--hnsw-ef-construction`` 64 as the migration builds it, cosine; ``hnsw.ef_search`` as the
  selector sets it, and every value of ``--ef-sweep``) vs exact numpy over the same float32
  matrix: recall@20 of HNSW against exact, p50/p95 latency of both. PostgreSQL runs with
  ``shared_buffers`` = ``--shared-buffers`` (default 6GB: the table and the index fit, as a
  deployment would configure it; the server is restarted to apply it). ``--ann-dir DIR``
  keeps the data directory: a later run with the same N, m and ef_construction reuses the
  built index and only measures (the build time reported is then the first run's). There are not a million real
  creators: the vectors are synthetic but shaped like real ones, each the normalised mix
  of two real caption embeddings (2,000 training tweets) plus Gaussian noise; queries are
  drawn the same way and are not in the table.
- ``fallback``: the exact path as the product runs it (``analysis.selectors.profile_lookalikes``
  on PostgreSQL without pgvector: ``bytea`` of raw float32 read through a binary cursor, numpy ranking) over
  a prefilter that leaves 100,000 candidates (``followers_count`` range) among
  ``--fallback-rows`` profiles: p50/p95. Needs ``BENCH_PG15_URL`` (default
  postgres://postgres@127.0.0.1:5432/ca_embed_bench, dropped and recreated).

The last line is ``BENCH_RESULT {json}`` with every figure.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench._util import percentile, result_line  # noqa: E402

DATA = REPO.parent / "shared" / "data"
K = 5
TOP = 20


def _setup_django(settings_module: str = "config.settings.base") -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _training_tweets(count: int) -> list[str]:
    path = DATA / "train" / "sentiment" / "xlmt_english_train_text.txt"
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()][:count]


def _engines() -> tuple[Any, Any]:
    from django.conf import settings

    from analysis.engines.embedding_engine import EmbeddingsEngine
    from analysis.engines.rules import RulesEngine

    return EmbeddingsEngine.from_settings(), RulesEngine(settings.AI_CATEGORIES)


# --- quality ------------------------------------------------------------------------------


def real_creators() -> list[dict[str, Any]]:
    """The 45-creator export and @humansofny: username, biography, category, captions."""
    creators = []
    for row in json.loads((DATA / "apify" / "gooper-45-creators.json").read_text(encoding="utf-8")):
        creators.append(
            {
                "username": row["username"],
                "biography": row.get("biography") or "",
                "category": row.get("businessCategoryName") or "",
                "captions": [p.get("caption") or "" for p in row.get("latestPosts") or []],
            }
        )
    hony = json.loads((DATA / "apify" / "humansofny-details.json").read_text(encoding="utf-8"))[0]
    creators.append(
        {
            "username": hony["username"],
            "biography": hony.get("biography") or "",
            "category": hony.get("businessCategoryName") or "",
            "captions": [p.get("caption") or "" for p in hony.get("latestPosts") or []],
        }
    )
    return creators


def _primary(engine: Any, captions: list[str]) -> str:
    from analysis.aggregation import PostAnalysis, primary_category
    from analysis.engines.base import PostInput

    results = engine.analyse([PostInput(key=str(i), caption=c) for i, c in enumerate(captions)])
    return primary_category([PostAnalysis.from_result(r) for r in results])


def precision_at_k(vectors: np.ndarray, labels: list[str], k: int = K) -> tuple[float, float]:
    """(mean precision@k of the exact nearest neighbours, its expectation for random picks)."""
    scores = vectors @ vectors.T
    np.fill_diagonal(scores, -np.inf)
    hits, expected = [], []
    n = len(labels)
    for i in range(n):
        nearest = np.argsort(-scores[i], kind="stable")[:k]
        hits.append(sum(labels[j] == labels[i] for j in nearest) / k)
        expected.append((sum(1 for x in labels if x == labels[i]) - 1) / (n - 1))
    return float(np.mean(hits)), float(np.mean(expected))


def part_quality(log: Any) -> dict[str, Any]:
    from analysis import embeddings as recipe

    engine, rules = _engines()
    creators = real_creators()
    vectors = []
    for creator in creators:
        captions = [recipe.clean_text(c) for c in creator["captions"] if recipe.clean_text(c)]
        bio = recipe.profile_bio_text(biography=creator["biography"], category=creator["category"])
        bio_vector = engine.embed([bio])[0] if bio else None
        caption_vectors = list(engine.embed(captions)) if captions else []
        vectors.append(recipe.combine_profile_vector(bio=bio_vector, captions=caption_vectors))
        creator["primary_embeddings"] = _primary(engine, creator["captions"])
        creator["primary_rules"] = _primary(rules, creator["captions"])
    matrix = np.stack(vectors)
    figures: dict[str, Any] = {"creators": len(creators)}
    for source in ("embeddings", "rules"):
        labels = [c[f"primary_{source}"] for c in creators]
        p_at_k, random_p = precision_at_k(matrix, labels)
        figures[f"precision_at_5_{source}_labels"] = round(p_at_k, 4)
        figures[f"random_precision_at_5_{source}_labels"] = round(random_p, 4)
        counts: dict[str, int] = {}
        for label in labels:
            counts[label] = counts.get(label, 0) + 1
        log(
            f"quality ({source} categories): precision@5 {p_at_k:.4f} vs random {random_p:.4f}; "
            f"categories {dict(sorted(counts.items(), key=lambda x: -x[1]))}"
        )
    hony = len(creators) - 1
    nearest = np.argsort(-(matrix @ matrix[hony]))[1:6]
    log("  nearest to @humansofny: " + ", ".join(creators[j]["username"] for j in nearest))
    return figures


# --- speed and stage ----------------------------------------------------------------------


def part_speed(log: Any, quick: bool) -> dict[str, Any]:
    from django.conf import settings

    from analysis.engines.embedders import make_embedder

    started = time.perf_counter()
    embedder = make_embedder(settings.AI_EMBEDDING_MODEL, batch_size=settings.AI_EMBEDDING_BATCH_SIZE, threads=2)
    load = time.perf_counter() - started
    texts = _training_tweets(500 if quick else 2000)
    embedder.encode(texts[:32])  # warm-up
    embedder._memo.clear()
    started = time.perf_counter()
    embedder.encode(texts)
    elapsed = time.perf_counter() - started
    rate = len(texts) / elapsed
    log(
        f"speed: {embedder.model_id}: {len(texts)} tweets in {elapsed:.2f} s = {rate:.0f} embeddings/s on 2 threads "
        f"(batch {settings.AI_EMBEDDING_BATCH_SIZE}); model load {load:.2f} s"
    )
    return {
        "embedding_model": embedder.model_id,
        "embeddings_per_second": round(rate, 1),
        "embedding_model_load_seconds": round(load, 2),
    }


def _run_child(args: list[str], env: dict[str, str]) -> dict[str, Any]:
    """This script again with ``args`` in ``env``; its last stdout line as JSON."""
    import subprocess

    out = subprocess.run(
        [sys.executable, __file__, *args], env=env, capture_output=True, text=True, check=False, cwd=REPO
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def part_stage(log: Any, with_transformers: bool, top_k: int | None = None) -> dict[str, Any]:
    """Runs in a child process with throwaway settings (see ``_stage_child``)."""
    with tempfile.TemporaryDirectory(prefix="bench-lookalike-") as tmp:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "BENCH_DATABASE_URL": f"sqlite:///{tmp}/db.sqlite3",
            "BENCH_MEDIA_ROOT": f"{tmp}/media",
            "BENCH_LOG_FILE": f"{tmp}/requests.log",
            "HF_HUB_OFFLINE": "1",
        }
        args = ["--stage-child"] + (["--with-transformers"] if with_transformers else [])
        figures = _run_child(args + ([] if top_k is None else ["--top-k", str(top_k)]), env)
    log(
        f"stage: AI stage of a new 12-post creator {figures['ai_stage_seconds_first']:.2f} s (model loaded "
        f"before: {figures['engine_load_seconds']:.2f} s), again {figures['ai_stage_seconds_again']:.2f} s; "
        f"AI worker peak RSS {figures['ai_worker_peak_rss_mb']:.0f} MB (loading {figures['load_peak_rss_mb']:.0f}, "
        f"AI steps {figures['ai_step_peak_rss_mb']:.0f}; the whole process with scrape and media "
        f"{figures['process_peak_rss_mb']:.0f})"
        + (
            f" with the transformer models, NLI shortlist {figures['category_top_k'] or 'off (all categories)'}"
            if with_transformers
            else " (embeddings engine only)"
        )
    )
    return figures


def _vm_hwm_mb() -> float:
    """This process's peak RSS since the last ``_reset_hwm`` (Linux ``VmHWM``)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return _rss_mb()


_process_peak_mb = 0.0


def _reset_hwm() -> None:
    """Reset ``VmHWM`` (and with it ``ru_maxrss``), keeping the process's peak so far in ``_process_peak_mb``."""
    global _process_peak_mb
    _process_peak_mb = max(_process_peak_mb, _vm_hwm_mb())
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def _stage_child(with_transformers: bool, top_k: int | None = None) -> int:
    _setup_django("bench.settings")
    import torch
    from django.conf import settings
    from django.core.management import call_command

    torch.set_num_threads(2)
    settings.AI_ENGINE = "embeddings"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.PIPELINE_EAGER_THREAD = False
    call_command("migrate", verbosity=0)
    if with_transformers:
        # The transformer engine in fast mode (int8) with models of the real sizes (random
        # weights, bench/_models.py), plus the standalone embedding model: the AI worker of
        # a deployment with every model.
        from bench._models import build_models

        paths = build_models(Path(tempfile.gettempdir()) / "bench-ai-models")
        settings.AI_SENTIMENT_MODEL, settings.AI_LANGUAGE_MODEL = paths["sentiment"], paths["language"]
        settings.AI_CATEGORY_MODEL, settings.AI_QUANTIZE, settings.AI_ENGINE = paths["category"], "int8", "transformers"
        # Fast mode's default (config/settings/base.py reads it with AI_QUANTIZE from the environment).
        settings.AI_CATEGORY_TOP_K = int(os.environ.get("AI_CATEGORY_TOP_K", 5)) if top_k is None else top_k
    from analysis.engines.registry import get_embedder, get_engine, warm_up
    from analysis.models import AnalysisJob
    from bench.pipeline import pipeline_reset

    _reset_hwm()
    started = time.perf_counter()
    warm_up()
    load = time.perf_counter() - started
    load_peak = _vm_hwm_mb()
    assert get_engine().name == settings.AI_ENGINE and get_embedder() is not None
    from analysis import services
    from analysis.services import inline_pipeline

    ai_peaks: list[float] = []
    run_ai = services.job_run_ai

    def measured_run_ai(*args: Any, **kwargs: Any) -> Any:
        _reset_hwm()
        try:
            return run_ai(*args, **kwargs)
        finally:
            ai_peaks.append(_vm_hwm_mb())

    services.job_run_ai = measured_run_ai

    stages = []
    for _ in range(2):
        pipeline_reset(username="humansofny")
        with inline_pipeline():
            job, _ = services.job_start(username="humansofny", trigger=AnalysisJob.Trigger.COMMAND)
        job.refresh_from_db()
        if job.status != AnalysisJob.Status.COMPLETED:
            print(f"job ended {job.status}: {job.error_detail}", file=sys.stderr)
            return 1
        stages.append((job.ai_finished_at - job.ai_started_at).total_seconds())
    print(
        json.dumps(
            {
                "ai_stage_seconds_first": round(stages[0], 3),
                "ai_stage_seconds_again": round(stages[1], 3),
                "engine_load_seconds": round(load, 2),
                "ai_worker_peak_rss_mb": round(max(load_peak, *ai_peaks), 1),
                "load_peak_rss_mb": round(load_peak, 1),
                "ai_step_peak_rss_mb": round(max(ai_peaks), 1),
                "process_peak_rss_mb": round(max(_process_peak_mb, _vm_hwm_mb()), 1),
                "category_top_k": getattr(settings, "AI_CATEGORY_TOP_K", 0) if with_transformers else None,
                "with_transformers": with_transformers,
            }
        )
    )
    return 0


# --- ANN vs exact ---------------------------------------------------------------------------


def synthetic_vectors(base: np.ndarray, count: int, seed: int) -> np.ndarray:
    """``count`` unit vectors, each the normalised mix of two rows of ``base`` plus noise."""
    rng = np.random.default_rng(seed)
    out = np.empty((count, base.shape[1]), dtype=np.float32)
    step = 100_000
    for start in range(0, count, step):
        n = min(step, count - start)
        a = base[rng.integers(0, len(base), n)]
        b = base[rng.integers(0, len(base), n)]
        mix = rng.uniform(0.5, 1.0, (n, 1)).astype(np.float32)
        rows = mix * a + (1 - mix) * b + rng.normal(0, 0.03, (n, base.shape[1])).astype(np.float32)
        out[start : start + n] = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return out


def _exact_top(matrix: np.ndarray, query: np.ndarray, k: int) -> np.ndarray:
    scores = matrix @ query
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top])]


def part_ann(
    log: Any,
    count: int,
    queries: int,
    quick: bool,
    *,
    m: int = 16,
    ef_construction: int = 64,
    sweep_values: tuple[int, ...] = (40, 200, 400, 800),
    data_dir: str | None = None,
    shared_buffers: str = "",
) -> dict[str, Any]:
    import pgserver
    import psycopg
    from pgvector.psycopg import register_vector

    from analysis.engines.embedders import embedder_from_settings
    from analysis.selectors import LOOKALIKE_EF_FACTOR, LOOKALIKE_EF_SEARCH

    embedder = embedder_from_settings()
    base = embedder.encode(_training_tweets(500 if quick else 2000))
    matrix = synthetic_vectors(base, count, seed=1)
    probes = synthetic_vectors(base, queries, seed=2)
    log(f"ann: {count:,} synthetic vectors ({matrix.nbytes / 2**20:.0f} MB float32), {queries} queries")

    # --ann-dir keeps the PostgreSQL data directory (and the built index) for a later run with
    # the same vectors and index parameters, which then only measures (the build is reported
    # as reused, with the build time of the run that made it).
    database = f"bench_ann_{count}_m{m}_efc{ef_construction}"
    with tempfile.TemporaryDirectory(prefix="bench-pgserver-") as tmp:
        server = pgserver.get_server(data_dir or tmp, cleanup_mode="stop")
        if shared_buffers and shared_buffers not in server.psql("SHOW shared_buffers;"):
            # As a deployment would: the table and the index in PostgreSQL's own cache (the
            # default 128 MB holds a tenth of the index). Takes effect at the restart.
            server.psql(f"ALTER SYSTEM SET shared_buffers = '{shared_buffers}';")
            server.cleanup()
            server = pgserver.get_server(data_dir or tmp, cleanup_mode="stop")
        log(f"ann: shared_buffers {server.psql('SHOW shared_buffers;').split()[2]}")
        try:
            exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")  # noqa: S608
            reused = data_dir is not None and "1 row" in exists
            if not reused:
                server.psql(f"DROP DATABASE IF EXISTS {database};")
                server.psql(f"CREATE DATABASE {database};")
            uri = server.get_uri(database)
            with psycopg.connect(uri, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
                register_vector(conn)
                if reused:
                    load, build = (float(x) for x in conn.execute("SELECT copy_s, build_s FROM bench_meta").fetchone())
                    log(f"ann: reusing {database} in {data_dir} (COPY {load:.0f} s, HNSW build {build:.0f} s then)")
                else:
                    conn.execute("CREATE TABLE items (id integer PRIMARY KEY, embedding vector(384))")
                    started = time.perf_counter()
                    with conn.cursor().copy("COPY items (id, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
                        copy.set_types(["int4", "vector"])
                        for i in range(count):
                            copy.write_row((i, matrix[i]))
                    load = time.perf_counter() - started
                    conn.execute("SET maintenance_work_mem = '8GB'")
                    conn.execute("SET max_parallel_maintenance_workers = 1")
                    started = time.perf_counter()
                    conn.execute(
                        "CREATE INDEX items_embedding_idx ON items USING hnsw (embedding vector_cosine_ops) "
                        f"WITH (m = {int(m)}, ef_construction = {int(ef_construction)})"
                    )
                    build = time.perf_counter() - started
                    conn.execute("VACUUM ANALYZE items")
                    conn.execute("CREATE TABLE bench_meta (copy_s float8, build_s float8)")
                    conn.execute("INSERT INTO bench_meta VALUES (%s, %s)", (load, build))
                    log(f"ann: COPY {load:.0f} s, HNSW (m {m}, ef_construction {ef_construction}) build {build:.0f} s")
                ef_search = min(1000, max(LOOKALIKE_EF_SEARCH, LOOKALIKE_EF_FACTOR * TOP))
                exact_ms, exact_tops = [], []
                for q in probes:
                    started = time.perf_counter()
                    exact_tops.append(set(_exact_top(matrix, q, TOP).tolist()))
                    exact_ms.append((time.perf_counter() - started) * 1000)
                sweep: dict[int, dict[str, float]] = {}
                for ef in sorted({ef_search, *sweep_values}):
                    conn.execute(f"SET hnsw.ef_search = {ef}")
                    plan = conn.execute(
                        "EXPLAIN SELECT id FROM items ORDER BY embedding <=> %s LIMIT 20", (probes[0],)
                    ).fetchall()
                    assert any("items_embedding_idx" in row[0] for row in plan), plan
                    for q in probes[:5]:  # warm the index pages
                        conn.execute("SELECT id FROM items ORDER BY embedding <=> %s LIMIT 20", (q,)).fetchall()
                    hnsw_ms, recalls = [], []
                    for q, exact in zip(probes, exact_tops, strict=True):
                        started = time.perf_counter()
                        got = conn.execute("SELECT id FROM items ORDER BY embedding <=> %s LIMIT 20", (q,)).fetchall()
                        hnsw_ms.append((time.perf_counter() - started) * 1000)
                        recalls.append(len({r[0] for r in got} & exact) / TOP)
                    sweep[ef] = {
                        "recall_at_20": round(float(np.mean(recalls)), 4),
                        "p50_ms": round(percentile(hnsw_ms, 50), 2),
                        "p95_ms": round(percentile(hnsw_ms, 95), 2),
                    }
                    log(f"ann: ef_search {ef}: recall@20 {sweep[ef]['recall_at_20']:.4f}, p50 "
                        f"{sweep[ef]['p50_ms']} ms, p95 {sweep[ef]['p95_ms']} ms")  # fmt: skip
        finally:
            server.cleanup()
    figures = {
        "ann_vectors": count,
        "hnsw_m": m,
        "hnsw_ef_construction": ef_construction,
        "ann_index_reused": reused,
        "ann_shared_buffers": shared_buffers or "default",
        "ann_copy_seconds": round(load, 1),
        "hnsw_build_seconds": round(build, 1),
        "hnsw_ef_search": ef_search,
        "hnsw_recall_at_20": sweep[ef_search]["recall_at_20"],
        "hnsw_p50_ms": sweep[ef_search]["p50_ms"],
        "hnsw_p95_ms": sweep[ef_search]["p95_ms"],
        "hnsw_sweep": {str(ef): values for ef, values in sweep.items()},
        "exact_numpy_p50_ms": round(percentile(exact_ms, 50), 2),
        "exact_numpy_p95_ms": round(percentile(exact_ms, 95), 2),
    }
    log(
        f"ann: selector's ef_search {ef_search}: HNSW recall@20 {figures['hnsw_recall_at_20']:.4f}, "
        f"p50 {figures['hnsw_p50_ms']} ms, p95 {figures['hnsw_p95_ms']} ms; exact numpy p50 "
        f"{figures['exact_numpy_p50_ms']} ms, p95 {figures['exact_numpy_p95_ms']} ms"
    )
    return figures


# --- exact fallback through the selector ---------------------------------------------------


def part_fallback(log: Any, rows: int, queries: int) -> dict[str, Any]:
    url = os.environ.get("BENCH_PG15_URL", "postgres://postgres@127.0.0.1:5432/ca_embed_bench")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "BENCH_DATABASE_URL": url,
        "BENCH_MEDIA_ROOT": tempfile.mkdtemp(prefix="bench-lookalike-media-"),
        "BENCH_LOG_FILE": os.devnull,
    }
    figures = _run_child(["--fallback-child", str(rows), str(queries)], env)
    log(
        f"fallback ({figures['fallback_storage']}): {figures['fallback_candidates']:,} candidates of "
        f"{rows:,} profiles, top-20 p50 {figures['fallback_p50_ms']} ms, p95 {figures['fallback_p95_ms']} ms"
    )
    return figures


def _fallback_child(rows: int, queries: int) -> int:
    import psycopg
    from django.conf import settings

    url = settings.DATABASES["default"]
    admin = f"host={url['HOST']} port={url['PORT'] or 5432} user={url['USER']} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url["NAME"]}"')
        conn.execute(f'CREATE DATABASE "{url["NAME"]}"')
    _setup_django("bench.settings")
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import DateTimeField

    from analysis.embeddings import embedding_version
    from analysis.selectors import embeddings_storage_mode, profile_lookalikes
    from profiles.models import Profile

    call_command("migrate", verbosity=0)
    mode = embeddings_storage_mode()
    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(rows, 384)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    version = embedding_version()
    import uuid

    ids = [uuid.UUID(int=i + 1) for i in range(rows)]
    with connection.cursor() as cursor:
        raw = cursor.connection
        # Every column of the model (its default, or a fixed timestamp for a NOT NULL date
        # without one), so that the bench follows the model's new columns.
        fields = list(Profile._meta.concrete_fields)
        stamp = datetime.datetime(2026, 12, 3, tzinfo=datetime.UTC)
        defaults = []
        for field in fields:
            value = field.get_default()
            if value is None and not field.null and isinstance(field, DateTimeField):
                value = stamp
            defaults.append(field.get_db_prep_save(value, connection))
        columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
        position = {field.attname: n for n, field in enumerate(fields)}
        with raw.cursor().copy(f"COPY profiles_profile ({columns}) FROM STDIN") as copy:
            for i, pk in enumerate(ids):
                row = list(defaults)
                row[position["id"]], row[position["username"]], row[position["followers_count"]] = pk, f"u{i}", i
                copy.write_row(row)
        with raw.cursor().copy(
            "COPY analysis_profileembedding (profile_id, vector, version, source_hash, posts_used, updated_at) "
            "FROM STDIN"
        ) as copy:
            for pk, vector in zip(ids, matrix, strict=True):
                if mode == "bytes":  # bytea of raw float32, as EmbeddingField writes it
                    stored = vector.astype(">f4").tobytes()
                else:  # an older real[] column
                    stored = "{" + ",".join(f"{v:.7g}" for v in vector) + "}"
                copy.write_row((pk, stored, version, "x", 0, "2026-12-03"))
        cursor.execute("ANALYZE")
    low = rows - 100_000
    candidates = Profile.objects.filter(followers_count__gte=low)
    latencies = []
    for q in range(queries):
        profile = Profile.objects.get(pk=ids[(q * 7919) % rows])
        started = time.perf_counter()
        found = profile_lookalikes(profile=profile, candidates=candidates, limit=TOP)
        latencies.append((time.perf_counter() - started) * 1000)
        assert len(found) == TOP and all(p.followers_count >= low for p, _ in found)
    print(
        json.dumps(
            {
                "fallback_storage": mode,
                "fallback_candidates": candidates.count(),
                "fallback_p50_ms": round(percentile(latencies, 50), 1),
                "fallback_p95_ms": round(percentile(latencies, 95), 1),
            }
        )
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    sys.stdout.reconfigure(line_buffering=True)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="quality,speed,stage,ann,fallback")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--vectors", type=int, default=None)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--fallback-rows", type=int, default=120_000)
    parser.add_argument("--with-transformers", action="store_true")
    parser.add_argument("--top-k", type=int, default=None, help="the stage's AI_CATEGORY_TOP_K (fast: 5)")
    parser.add_argument("--hnsw-m", type=int, default=16)
    parser.add_argument("--hnsw-ef-construction", type=int, default=64)
    parser.add_argument("--ef-sweep", default="40,200,400,800", help="hnsw.ef_search values (with the selector's)")
    parser.add_argument("--shared-buffers", default="6GB", help="the ann part's PostgreSQL shared_buffers")
    parser.add_argument("--ann-dir", default=None, help="keep (and reuse) the ann part's PostgreSQL data here")
    parser.add_argument("--stage-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fallback-child", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage_child:
        return _stage_child(args.with_transformers, args.top_k)
    if args.fallback_child:
        return _fallback_child(*args.fallback_child)

    _setup_django()
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    figures: dict[str, Any] = {}
    log = print
    if "quality" in parts:
        figures.update(part_quality(log))
    if "speed" in parts:
        figures.update(part_speed(log, args.quick))
    if "stage" in parts:
        figures.update(part_stage(log, args.with_transformers, args.top_k))
    if "ann" in parts:
        count = args.vectors or (100_000 if args.quick else 1_000_000)
        figures.update(
            part_ann(
                log,
                count,
                args.queries,
                args.quick,
                m=args.hnsw_m,
                ef_construction=args.hnsw_ef_construction,
                sweep_values=tuple(int(x) for x in args.ef_sweep.split(",") if x.strip()),
                data_dir=args.ann_dir,
                shared_buffers=args.shared_buffers,
            )
        )
    if "fallback" in parts:
        figures.update(part_fallback(log, args.fallback_rows, 20 if args.quick else 40))
    print(result_line("lookalike", figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
