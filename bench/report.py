"""Report benchmark: the cached creator report under 16 concurrent clients, against a bare view.

Usage: ``.venv/bin/python bench/report.py [--duration S] [--warmup S] [--clients N] [--quick]
[--generator auto|wrk|python] [--workers W] [--threads T]``

1. Database: PostgreSQL when it answers on 127.0.0.1:5432 (a dedicated database
   ``bench_creator_analytics``, dropped and created again each run), else SQLite in a temp
   directory. Cache: Redis when it answers on 127.0.0.1:6379 (db ``BENCH_REDIS_DB``,
   default 9, keys under a per-run prefix that are deleted at the end), else local memory
   (then each gunicorn worker warms its own copy during the warm-up).
2. Seed (a child process, ``bench.settings``): migrate, one user per client, the pipeline
   for @humansofny (inline), access granted to every user, a JWT access token per user
   (``AccessToken.for_user``), the report requested twice to warm the cache (the DRF view,
   then the fast path, which caches the user's auth record), then the queries of one cached
   request counted (0 on the fast path). ``BENCH_PG_DATABASE`` names the PostgreSQL
   database (default ``bench_creator_analytics``) so that two people can run it at once.
3. gunicorn serves ``config.wsgi`` with ``bench.settings`` (``ROOT_URLCONF=bench.urls``) on
   127.0.0.1 and a free port: ``-k gthread -w 2 --threads 8`` by default, two processes for
   the two cores and 8 threads each so that the 16 keep-alive connections are all served
   at once (threads wait on I/O - Redis, the database - while another runs).
4. Load (bench/load.py): for each of (a) ``GET /bench/bare`` and (b) ``GET
   /api/v1/search/creator/humansofny`` with ``Authorization: Bearer``, a warm-up then a
   fixed-duration run of ``clients`` keep-alive connections. Figures: requests/s, client
   p50/p90/p99, errors, server-side p50/p99 (``Server-Timing``), and the ratios report/bare.

The generator shares the machine's cores with the server, so absolute requests/s are lower
than on a separate client machine; the ratio to the bare view measured by the same
generator in the same run is the fair figure. Targets (issue 4): requests/s ratio >= 0.5
and client p99 < 20 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import load
from bench._util import (
    PYTHON,
    REPO,
    django_env,
    fmt,
    free_port,
    median,
    parse_result,
    ratio,
    result_line,
    run_child,
    tcp_open,
)

USERNAME = "humansofny"
REPORT_PATH = f"/api/v1/search/creator/{USERNAME}"
BARE_PATH = "/bench/bare"
DRF_PATH = "/bench/drf"
PG_DATABASE = os.environ.get("BENCH_PG_DATABASE", "bench_creator_analytics")
TARGET_RPS_RATIO = 0.5
TARGET_P99_MS = 20.0
TARGET_CPU_RATIO = 2.0  # report CPU per request <= 2x the bare view's (issue 10)


# --- Seeding (runs in a child process with bench.settings) -----------------------------------
def seed(*, clients: int) -> dict[str, Any]:
    """Users, the analysed creator, access, tokens and a warm cache; the figures of one cached request."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from bench.pipeline import pipeline_once
    from profiles.models import Profile
    from profiles.services.access import access_grant
    from teams.services import team_personal_ensure

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"seed: migrated {connection.vendor} in {time.perf_counter() - started:.1f} s")
    pipeline = pipeline_once(username=USERNAME)
    print(f"seed: pipeline for @{USERNAME}: {pipeline['status']} in {pipeline['wall']:.2f} s")
    if pipeline["status"] != "completed":
        raise SystemExit(f"the pipeline did not complete: {pipeline}")
    profile = Profile.objects.get(username=USERNAME)
    tokens = []
    for index in range(clients):
        user = User.objects.create_user(email=f"bench{index}@example.com", password=uuid.uuid4().hex)
        access_grant(team=team_personal_ensure(user=user), profile=profile, granted_by=user)
        tokens.append(str(AccessToken.for_user(user)))
    client = Client(HTTP_AUTHORIZATION=f"Bearer {tokens[0]}")
    first = client.get(REPORT_PATH)
    body = first.json()
    if first.status_code != 200 or body.get("locked") or not body.get("report"):
        raise SystemExit(f"the report is not served to a user with access: {first.status_code} {first.content[:500]!r}")
    # The first request (the DRF view) caches the lookup, the access and the report; the
    # second (the fast path) the user's auth record; the third is what the load sees.
    client.get(REPORT_PATH)
    with CaptureQueriesContext(connection) as queries:
        cached = client.get(REPORT_PATH)
    assert cached.status_code == 200 and cached.content == first.content
    return {
        "tokens": tokens,
        "report_bytes": len(cached.content),
        "cached_queries": len(queries.captured_queries),
        "cached_sql": [query["sql"][:200] for query in queries.captured_queries],
        "database": connection.vendor,
    }


# --- The server -----------------------------------------------------------------------------
def _postgres_database() -> str | None:
    """A fresh PostgreSQL database for the run, or None when PostgreSQL does not answer."""
    if not tcp_open("127.0.0.1", 5432):
        return None
    import psycopg

    try:
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True, connect_timeout=5) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
            db.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    except psycopg.Error as exc:
        print(f"PostgreSQL answers but cannot be used ({exc}); using SQLite")
        return None
    return f"postgres://postgres@127.0.0.1:5432/{PG_DATABASE}"


def _redis_cleanup(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


def _get(port: int, path: str, token: str | None = None) -> tuple[int, bytes, dict[str, str]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"} if token else {})
        response = connection.getresponse()
        return response.status, response.read(), dict(response.getheaders())
    finally:
        connection.close()


def _wait_ready(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            if _get(port, BARE_PATH)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer in time")


def _load(
    args: argparse.Namespace, port: int, path: str, tokens: list[str], duration: float, clients: int | None = None
) -> dict[str, Any]:
    clients = clients or args.clients
    if args.generator == "wrk":
        url = f"http://127.0.0.1:{port}{path}"
        return load.wrk_run(url=url, tokens=tokens, clients=clients, duration=duration)
    return load.python_run(host="127.0.0.1", port=port, path=path, tokens=tokens, clients=clients, duration=duration)


def server_cpu_seconds(pgid: int) -> float:
    """User + system CPU time of every live process of the server's process group (from /proc).

    gunicorn runs in a session of its own (its pid is the group id): the master and its
    workers. Their CPU time per request served is steadier than requests/s on shared cores,
    where another process's load changes the throughput but hardly the work per request.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:  # the process ended while we listed them
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state ppid pgrp ...
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / ticks


def _measured(server_pid: int, run: Any) -> dict[str, Any]:
    """``run()``'s figures plus the server's CPU milliseconds per request served."""
    before = server_cpu_seconds(server_pid)
    figures = run()
    spent = server_cpu_seconds(server_pid) - before
    figures["cpu_ms_per_request"] = round(spent * 1000 / figures["requests"], 4) if figures["requests"] else None
    return figures


def _cpu(figures: dict[str, Any]) -> float:
    return figures.get("cpu_ms_per_request") or math.nan


def _print_run(name: str, figures: dict[str, Any]) -> None:
    print(
        f"  {name:<7} {figures['rps']:>8.1f} req/s  p50 {fmt(figures['p50_ms'])} ms  p90 {fmt(figures['p90_ms'])} ms  "
        f"p99 {fmt(figures['p99_ms'])} ms  errors {figures['errors']}/{figures['requests']}  "
        f"server p50 {fmt(figures['server_p50_ms'])} ms  p99 {fmt(figures['server_p99_ms'])} ms  "
        f"CPU {fmt(figures.get('cpu_ms_per_request'), 3)} ms/request"
    )


def combine_rounds(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """One figure set from several rounds: the median of each figure, errors and requests summed."""
    combined: dict[str, Any] = {}
    for key, value in rounds[0].items():
        if key in ("errors", "requests", "socket_errors", "non_200", "server_samples"):
            combined[key] = sum(found.get(key, 0) for found in rounds)
        elif isinstance(value, int | float):
            combined[key] = round(median([found[key] for found in rounds]), 3)
    return combined


def benchmark(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    database = _postgres_database() or f"sqlite:///{tmp}/bench.sqlite3"
    redis_url = ""
    prefix = f"bench-{os.getpid()}-{int(time.time())}"
    if tcp_open("127.0.0.1", 6379):
        redis_url = f"redis://127.0.0.1:6379/{os.environ.get('BENCH_REDIS_DB', '9')}"
    env = django_env(
        {
            "BENCH_DATABASE_URL": database,
            "BENCH_MEDIA_ROOT": str(tmp / "media"),
            "BENCH_REDIS_URL": redis_url,
            "BENCH_CACHE_PREFIX": prefix,
            "BENCH_LOG_FILE": str(tmp / "django.log"),
        }
    )
    print(f"database: {database.split('://')[0]}; cache: {'redis ' + redis_url if redis_url else 'local memory'}")
    code, output = run_child([PYTHON, str(Path(__file__).resolve()), "--seed", "--clients", str(args.clients)], env)
    seeded = parse_result(output)
    if code != 0 or not seeded or "tokens" not in seeded:
        raise RuntimeError("seeding failed")
    tokens = seeded["tokens"]
    print(f"seed: report {seeded['report_bytes']} bytes; queries in one cached request: {seeded['cached_queries']}")
    for sql in seeded["cached_sql"]:
        print(f"    {sql}")

    port = free_port()
    command = [
        str(REPO / ".venv" / "bin" / "gunicorn") if (REPO / ".venv" / "bin" / "gunicorn").exists() else "gunicorn",
        "config.wsgi:application",
        "-k",
        "gthread",
        "-w",
        str(args.workers),
        "--threads",
        str(args.threads),
        "-b",
        f"127.0.0.1:{port}",
        "--keep-alive",
        "10",
        "--log-level",
        "warning",
        "--error-logfile",
        str(tmp / "gunicorn.log"),
    ]
    print(f"server: gunicorn -k gthread -w {args.workers} --threads {args.threads} on 127.0.0.1:{port}")
    server = subprocess.Popen(command, cwd=REPO, env=env, start_new_session=True)
    try:
        _wait_ready(port, server)
        status, body, headers = _get(port, REPORT_PATH, tokens[0])
        payload = json.loads(body) if status == 200 else {}
        if status != 200 or payload.get("locked") or not payload.get("report"):
            raise RuntimeError(f"the served report is not the full report: {status} {body[:300]!r}")
        print(f"check: {REPORT_PATH} -> 200, full report, {len(body)} bytes, {headers.get('Server-Timing')}")
        generator = "wrk" if args.generator == "wrk" else f"python ({min(2, args.clients)} processes of threads)"
        timing = f"warm-up {args.warmup:.0f} s, run {args.duration:.0f} s"
        print(f"load: {generator}, {args.clients} clients (keep-alive), {timing}")
        targets = (("bare", BARE_PATH, []), ("drf", DRF_PATH, tokens), ("report", REPORT_PATH, tokens))
        rounds: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in targets}
        for number in range(args.rounds):
            # Interleaved rounds: a change in the machine's load hits both targets alike.
            print(f"  round {number + 1} of {args.rounds}")
            for name, path, auth in targets:
                if number == 0:
                    _load(args, port, path, auth, args.warmup)
                rounds[name].append(
                    _measured(server.pid, lambda path=path, auth=auth: _load(args, port, path, auth, args.duration))
                )
                _print_run(name, rounds[name][-1])
        runs = {name: combine_rounds(found) for name, found in rounds.items()}
        if args.rounds > 1:
            print(f"  median of {args.rounds} rounds")
            for name in runs:
                _print_run(name, runs[name])
        # One client: the service time of a request with no queueing and no GIL contention.
        print("  one client (service time without contention)")
        single = _load(args, port, REPORT_PATH, tokens, max(2.0, args.duration / 3), clients=1)
        _print_run("report", single)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        if redis_url:
            _redis_cleanup(redis_url, prefix)
    bare, drf, report = runs["bare"], runs["drf"], runs["report"]
    figures = {
        "generator": args.generator,
        "workers": args.workers,
        "threads": args.threads,
        "clients": args.clients,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "database": seeded["database"],
        "cache": "redis" if redis_url else "locmem",
        "report_bytes": seeded["report_bytes"],
        "cached_queries": seeded["cached_queries"],
        "bare": bare,
        "drf": drf,
        "report": report,
        "report_one_client": single,
        "drf_rps_ratio": ratio(drf["rps"], bare["rps"]),
        "report_to_drf_rps_ratio": ratio(report["rps"], drf["rps"]),
        "rps_ratio": ratio(report["rps"], bare["rps"]),
        "p50_ratio": ratio(report["p50_ms"], bare["p50_ms"]),
        # The steadier figure on shared cores: server CPU per request, report against bare.
        "cpu_ratio": ratio(_cpu(report), _cpu(bare)),
        "drf_cpu_ratio": ratio(_cpu(drf), _cpu(bare)),
    }
    figures["pass_rps_ratio"] = figures["rps_ratio"] >= TARGET_RPS_RATIO
    figures["pass_cpu_ratio"] = figures["cpu_ratio"] <= TARGET_CPU_RATIO  # NaN (unmeasured) fails
    figures["pass_p99"] = report["p99_ms"] < TARGET_P99_MS
    figures["errors"] = bare["errors"] + drf["errors"] + report["errors"]
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved bare/report rounds (median)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="4 s runs after 2 s warm-ups")
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_WORKERS", 2)))
    parser.add_argument("--threads", type=int, default=int(os.environ.get("BENCH_THREADS", 8)))
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seed:
        print(result_line("seed", seed(clients=args.clients)))
        return 0
    if args.quick:
        args.duration, args.warmup, args.rounds = min(args.duration, 4.0), min(args.warmup, 2.0), 1
    args.rounds = max(1, args.rounds)
    if args.generator == "auto":
        args.generator = "wrk" if load.wrk_available() else "python"
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        try:
            figures = benchmark(args, Path(tmp))
        except (RuntimeError, OSError) as exc:
            print(f"report benchmark failed: {exc}")
            for name in ("gunicorn.log", "django.log"):
                log = Path(tmp, name)
                if log.is_file():
                    print(f"{name} (tail):\n" + "".join(log.read_text().splitlines(keepends=True)[-15:]))
            print(result_line("report", {"ok": False, "error": str(exc)}))
            return 1
    print(
        f"report/bare: req/s ratio {fmt(figures['rps_ratio'], 3)} (target >= {TARGET_RPS_RATIO}: "
        f"{'PASS' if figures['pass_rps_ratio'] else 'MISS'}), p50 ratio {fmt(figures['p50_ratio'], 3)}; "
        f"report p99 {fmt(figures['report']['p99_ms'])} ms (target < {TARGET_P99_MS:.0f} ms: "
        f"{'PASS' if figures['pass_p99'] else 'MISS'}); server-side p50 {fmt(figures['report']['server_p50_ms'])} ms, "
        f"p99 {fmt(figures['report']['server_p99_ms'])} ms; queries per cached request {figures['cached_queries']}"
    )
    print(
        f"baseline DRF + JWT view (/bench/drf): req/s ratio to bare {fmt(figures['drf_rps_ratio'], 3)}; "
        f"report/drf req/s ratio {fmt(figures['report_to_drf_rps_ratio'], 3)} (the report's own cost)"
    )
    print(
        f"server CPU per request: bare {fmt(_cpu(figures['bare']), 3)} ms, drf {fmt(_cpu(figures['drf']), 3)} ms, "
        f"report {fmt(_cpu(figures['report']), 3)} ms; report/bare CPU ratio {fmt(figures['cpu_ratio'], 3)} "
        f"(target <= {TARGET_CPU_RATIO}: {'PASS' if figures['pass_cpu_ratio'] else 'MISS'}), "
        f"drf/bare {fmt(figures['drf_cpu_ratio'], 3)}"
    )
    single = figures["report_one_client"]
    print(
        f"report at one client: p50 {fmt(single['p50_ms'])} ms, p99 {fmt(single['p99_ms'])} ms; server-side "
        f"p50 {fmt(single['server_p50_ms'])} ms, p99 {fmt(single['server_p99_ms'])} ms"
    )
    print(
        "note: the load generator and the server share this machine's "
        f"{os.cpu_count()} cores; compare the ratio, not the absolute req/s, across machines."
    )
    print(result_line("report", {"ok": figures["errors"] == 0, **figures}))
    return 0 if figures["errors"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
