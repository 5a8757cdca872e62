"""Pipeline benchmark: wall time of the full creator pipeline for one 12-post creator.

Usage: ``.venv/bin/python bench/pipeline.py [--runs N] [--quick] [--username NAME]``

Conditions (issue 3): the ``dataset`` provider on the bundled ``sample_data/``, local
storage, the rule-based engine, eager tasks in the calling thread (what ``manage.py
analyze_profile --wait`` does without a broker). A child process with
``DJANGO_SETTINGS_MODULE=bench.settings`` migrates a throwaway database (SQLite in a temp
directory, or ``BENCH_DATABASE_URL``, which is flushed), then runs the pipeline N times
from scratch: before each run the profile, its posts, jobs and image assets are deleted and
the media directory is a new, empty one. Migrations are timed apart; only the pipeline
counts. Per run it prints the stages from the job's own timestamps (queue, scrape, media,
ai, finish) and the wall time of ``job_start`` returning with the job ended; the headline
is the median wall time against the 5 s target. Then one re-run without deleting anything
(the no-op refresh: scrape again, nothing left to store or analyse).

The first run of a process also loads the rule engine's lexicon and language model
(``lru_cache``); it is printed apart as "cold". A worker keeps them loaded between jobs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._util import PYTHON, django_env, fmt, median, result_line, run_child

TARGET_SECONDS = 5.0
STAGES = ("queue", "scrape", "media", "ai", "finish")


def _seconds(start: Any, end: Any) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 4)


def pipeline_reset(*, username: str) -> None:
    """Delete the creator, its posts, jobs and stored images, so that the next run starts from scratch."""
    from analysis.models import AnalysisJob
    from cdn.models import ImageAsset
    from profiles.models import Post, Profile

    profile = Profile.objects.filter(username=username).first()
    if profile is not None:
        urls = [profile.profile_pic_url, *Post.objects.filter(profile=profile).values_list("display_url", flat=True)]
        ImageAsset.objects.filter(source_url__in=[url for url in urls if url]).delete()
        profile.delete()
    AnalysisJob.objects.filter(username=username).delete()


def pipeline_once(*, username: str) -> dict[str, Any]:
    """Run the whole pipeline for ``username`` in this thread; its status, stage and total seconds."""
    from django.db import connection

    from analysis import services
    from analysis.models import AnalysisJob
    from analysis.services import inline_pipeline

    started = time.perf_counter()
    with inline_pipeline():
        if connection.in_atomic_block:
            # Inside a transaction (the test suite) on_commit callbacks would wait for a
            # commit that never comes: run them as the commit would.
            from django.test import TestCase

            with TestCase.captureOnCommitCallbacks(execute=True):
                job, _ = services.job_start(username=username, trigger=AnalysisJob.Trigger.COMMAND)
        else:
            job, _ = services.job_start(username=username, trigger=AnalysisJob.Trigger.COMMAND)
    wall = time.perf_counter() - started
    job.refresh_from_db()
    stages = {
        "queue": _seconds(job.created_at, job.scrape_started_at),
        "scrape": _seconds(job.scrape_started_at, job.scrape_finished_at),
        "media": _seconds(job.media_started_at, job.media_finished_at),
        "ai": _seconds(job.ai_started_at, job.ai_finished_at),
        "finish": _seconds(job.ai_finished_at, job.finished_at),
    }
    posts = job.profile.posts.count() if job.profile_id else 0
    return {
        "status": str(job.status),
        "error": f"{job.error_stage} {job.error_category} {job.error_detail}".strip() if job.error_stage else "",
        "posts": posts,
        "stages": stages,
        "job_total": _seconds(job.created_at, job.finished_at),
        "wall": round(wall, 4),
    }


def pipeline_bench(*, username: str, runs: int, media_dir: Path, log: Any = print) -> dict[str, Any]:
    """``runs`` from-scratch pipelines and one no-op re-run; the figures of each and their medians."""
    from django.test import override_settings

    results = []
    for index in range(runs):
        pipeline_reset(username=username)
        with override_settings(MEDIA_ROOT=str(media_dir / f"run{index}")):
            result = pipeline_once(username=username)
        results.append(result)
        stages = "  ".join(f"{name} {fmt(result['stages'][name], 3)}" for name in STAGES)
        log(f"  run {index + 1}: {result['status']}, {result['posts']} posts, {stages}  wall {result['wall']:.3f} s")
        if result["error"]:
            log(f"    error: {result['error']}")
    with override_settings(MEDIA_ROOT=str(media_dir / f"run{runs - 1}")):
        rerun = pipeline_once(username=username)
    log(f"  no-op re-run: {rerun['status']}, wall {rerun['wall']:.3f} s")
    warm = results[1:] or results
    return {
        "runs": runs,
        "statuses": [result["status"] for result in results],
        "posts": results[-1]["posts"],
        "wall_median_s": round(median([result["wall"] for result in results]), 4),
        "wall_cold_s": results[0]["wall"],
        "wall_warm_median_s": round(median([result["wall"] for result in warm]), 4),
        "stages_median_s": {
            name: round(median([r["stages"][name] for r in results if r["stages"][name] is not None]), 4)
            if any(r["stages"][name] is not None for r in results)
            else None
            for name in STAGES
        },
        "rerun_s": rerun["wall"],
        "rerun_status": rerun["status"],
        "target_s": TARGET_SECONDS,
    }


def _child(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']}); cores: {os.cpu_count()}")
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"migrations: {time.perf_counter() - started:.1f} s (not counted)")
    if connection.vendor != "sqlite":
        call_command("flush", verbosity=0, interactive=False)  # a given database: start empty
    figures = pipeline_bench(username=args.username, runs=args.runs, media_dir=Path(os.environ["BENCH_MEDIA_ROOT"]))
    ok = all(status == "completed" for status in figures["statuses"])
    stages = "  ".join(f"{name} {fmt(figures['stages_median_s'][name], 3)}" for name in STAGES)
    print(f"median of {args.runs}: {stages}")
    print(
        f"pipeline @{args.username}: median {figures['wall_median_s']:.3f} s (cold {figures['wall_cold_s']:.3f} s, "
        f"warm median {figures['wall_warm_median_s']:.3f} s), no-op re-run {figures['rerun_s']:.3f} s; "
        f"target < {TARGET_SECONDS:.0f} s: {'PASS' if ok and figures['wall_median_s'] < TARGET_SECONDS else 'MISS'}"
    )
    print(result_line("pipeline", {"ok": ok, "database": connection.vendor, **figures}))
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="2 runs instead of 3")
    parser.add_argument("--username", default="humansofny")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick and args.runs == 3:
        args.runs = 2
    args.runs = max(1, args.runs)
    if args.child:
        return _child(args)
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        database = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
        env = django_env(
            {
                "BENCH_DATABASE_URL": database,
                "BENCH_MEDIA_ROOT": f"{tmp}/media",
                "BENCH_LOG_FILE": f"{tmp}/django.log",
                "BENCH_REDIS_URL": "",
            }
        )
        command = [PYTHON, str(Path(__file__).resolve()), "--child", "--runs", str(args.runs)]
        code, output = run_child([*command, "--username", args.username], env)
        log = Path(tmp, "django.log")
        if code and log.is_file():
            print("django log (tail):\n" + "".join(log.read_text().splitlines(keepends=True)[-20:]))
    for line in output.splitlines():
        if line.startswith("BENCH_RESULT "):
            print(line)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
