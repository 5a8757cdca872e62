"""Smoke tests of the benchmark harness: one real pipeline run, and the load statistics.

gunicorn is not started here (slow, and it needs free cores); the statistics, the wrk output
parser and the Python client loop (against a local HTTP server in a thread) are checked on
known inputs.
"""

from __future__ import annotations

import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench import load
from bench._util import RESULT_PREFIX, latency_summary, parse_result, percentile, ratio, result_line
from bench.pipeline import STAGES, pipeline_bench, pipeline_reset
from bench.report import combine_rounds

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"


# --- statistics ---------------------------------------------------------------------------
def test_percentile_interpolates_between_ranks():
    values = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5]  # 1..10, unsorted
    assert percentile(values, 0) == 1
    assert percentile(values, 100) == 10
    assert percentile(values, 50) == pytest.approx(5.5)
    assert percentile(values, 90) == pytest.approx(9.1)
    assert percentile(values, 99) == pytest.approx(9.91)
    assert percentile([4.0], 99) == 4.0
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile(values, 101)


def test_latency_summary_counts_errors_in_throughput_not_latency():
    summary = latency_summary([1.0, 2.0, 3.0, 4.0], duration_s=2.0, errors=2)
    assert summary["requests"] == 6
    assert summary["rps"] == 3.0
    assert summary["mean_ms"] == 2.5
    assert summary["p50_ms"] == 2.5
    assert summary["p99_ms"] == pytest.approx(3.97)
    assert summary["max_ms"] == 4.0
    assert ratio(250.0, 500.0) == 0.5
    assert math.isnan(ratio(1.0, 0.0))


def test_parse_result_prefers_the_bench_line_then_the_last_json_object():
    ours = result_line("report", {"rps": 12.5})
    assert ours.startswith(RESULT_PREFIX)
    assert parse_result(f'text\n{ours}\n{{"other": 1}}\n') == {"bench": "report", "rps": 12.5}
    assert parse_result('engine: rules\n{"a": 1}\n{"b": 2}\nnot json {\n') == {"b": 2}
    assert parse_result("no figures here\n[1, 2]\n") is None


def test_wrk_output_is_parsed_in_milliseconds():
    text = (
        "summary 1000 2000000 0 1 0 0 2\nlatency 1500.0 2500.0 9000.0 1800.0 12000.0\nst 0.5\nst 1.5\nst 2.5\nbad 4\n"
    )
    figures = load.parse_wrk_output(text)
    assert figures["requests"] == 1000
    assert figures["duration_s"] == 2.0
    assert figures["rps"] == 500.0
    assert (figures["p50_ms"], figures["p90_ms"], figures["p99_ms"]) == (1.5, 2.5, 9.0)
    assert figures["errors"] == 3 + 4  # socket errors (read, timeout) + non-200 answers
    assert figures["server_p50_ms"] == 1.5
    assert figures["server_samples"] == 3


def test_combine_rounds_takes_medians_and_sums_counts():
    rounds = [
        {"rps": 100.0, "p99_ms": 9.0, "requests": 1000, "errors": 1},
        {"rps": 300.0, "p99_ms": 3.0, "requests": 3000, "errors": 0},
        {"rps": 200.0, "p99_ms": 5.0, "requests": 2000, "errors": 2},
    ]
    assert combine_rounds(rounds) == {"rps": 200.0, "p99_ms": 5.0, "requests": 6000, "errors": 3}


def test_python_client_loop_measures_a_local_server():
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as gunicorn

        def do_GET(self):
            ok = self.headers.get("Authorization") == "Bearer t0"
            body = b'{"ok": true}'
            self.send_response(200 if ok else 401)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Server-Timing", "app;dur=0.250")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        headers = [{"Authorization": "Bearer t0"}, {"Authorization": "Bearer wrong"}]
        out = load._client_process("127.0.0.1", port, "/", headers, 0.3)
    finally:
        server.shutdown()
        server.server_close()
    assert len(out["latencies"]) > 5  # the good client's requests
    assert out["errors"] > 5  # every answer to the bad token is a 401
    assert all(0 < value < 1000 for value in out["latencies"])
    assert set(out["server"]) == {0.25}
    assert out["span"] >= 0.3
    assert load.server_timing_ms("app;dur=12.5") == 12.5
    assert load.server_timing_ms(None) is None


# --- the pipeline ---------------------------------------------------------------------------
@pytest.fixture
def bench_settings(settings, tmp_path):
    settings.SCRAPER_PROVIDER = "dataset"
    settings.SCRAPER_DATASET_DIR = SAMPLE_DATA
    settings.CDN_LOCAL_SOURCE_ROOTS = [str(SAMPLE_DATA)]
    settings.AI_ENGINE = "rules"
    settings.PIPELINE_EAGER_THREAD = False
    settings.CDN_BASE_URL = ""
    settings.MEDIA_ROOT = str(tmp_path / "unused")
    return settings


@pytest.mark.django_db
def test_pipeline_bench_runs_the_real_pipeline_from_scratch(bench_settings, tmp_path):
    from cdn.models import ImageAsset
    from profiles.models import Profile

    lines: list[str] = []
    figures = pipeline_bench(username="humansofny", runs=1, media_dir=tmp_path / "media", log=lines.append)

    assert figures["statuses"] == ["completed"], lines
    assert figures["rerun_status"] == "completed"
    assert figures["posts"] == 12
    stages = figures["stages_median_s"]
    assert set(stages) == set(STAGES)
    assert all(value is not None and value >= 0 for value in stages.values())
    # The stages come from the job's timestamps: together they fit in the measured wall time.
    assert sum(stages.values()) <= figures["wall_median_s"] + 0.05
    assert 0 < figures["wall_median_s"] < 60
    assert 0 < figures["rerun_s"] < 60
    # The renditions were written to the run's own media directory.
    assert list((tmp_path / "media" / "run0").rglob("*.webp"))
    profile = Profile.objects.get(username="humansofny")
    assert profile.cdn_avatar_url
    assert profile.posts.filter(ai_analyzed_at__isnull=False).count() == 12

    pipeline_reset(username="humansofny")
    assert not Profile.objects.filter(username="humansofny").exists()
    assert not ImageAsset.objects.exists()


def test_server_cpu_seconds_counts_a_busy_process_group():
    import subprocess
    import sys

    from bench.report import server_cpu_seconds

    busy = subprocess.Popen(
        [sys.executable, "-c", "import time\nend = time.process_time() + 0.6\nwhile time.process_time() < end: pass"],
        start_new_session=True,
    )
    try:
        busy.wait(timeout=30)
    finally:
        busy.kill()
    # The process has ended: its group counts nothing any more, and a live group counts its own.
    assert server_cpu_seconds(busy.pid) == 0
    live = subprocess.Popen(
        [sys.executable, "-c", "import time\nend = time.process_time() + 0.5\nwhile time.process_time() < end: pass\n"
         "time.sleep(30)"],
        start_new_session=True,
    )  # fmt: skip
    try:
        import time

        deadline = time.monotonic() + 20
        while server_cpu_seconds(live.pid) < 0.4 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert server_cpu_seconds(live.pid) >= 0.4
    finally:
        live.kill()
        live.wait()


def test_lookalike_stage_rows_judge_the_first_run_and_the_int8_worker_memory():
    from bench.run import rows_lookalike

    figures = {
        "ai_stage_seconds_first": 24.1,  # the measurement
        "ai_stage_seconds_again": 0.05,  # every caption in the AI result cache: not a measurement
        "ai_worker_peak_rss_mb": 2100.0,
        "with_transformers": True,
    }
    rows = {row[0]: row for row in rows_lookalike(figures)}
    stage = rows["lookalike: AI stage, 12-post creator, transformers (int8) + embeddings (s)"]
    assert stage[1] == "24.10" and stage[3] == "MISS"
    assert rows["lookalike: AI worker peak RSS, int8 + embeddings (MB)"][3] == "MISS"
    figures.update(ai_stage_seconds_first=14.3, ai_worker_peak_rss_mb=1963.0)
    assert all(row[3] == "PASS" for row in rows_lookalike(figures))


def test_ai_bench_fast_mode_is_the_deployed_one_with_the_embedding_shortlist(tmp_path, monkeypatch):
    """``bench/ai.py``'s fast mode shortlists 5 categories by embeddings, as a worker with int8 does."""
    pytest.importorskip("torch")
    from analysis.engines import registry
    from bench import ai
    from tests.analysis.tiny_models import build_all

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    paths = build_all(tmp_path)
    try:
        fast = ai._engine(paths, **ai.MODE_OPTIONS["fast"])
        assert fast.options.top_k == 5 and fast.shortlist is not None and "+emb(" in fast.version
        [result] = fast.analyse(ai._posts(["Morning run by the sea, then breakfast"]))
        assert result.raw["category_candidates"] == 5
        exhaustive = ai._engine(paths, **ai.MODE_OPTIONS["fast_all"])
        assert exhaustive.shortlist is None
        [result] = exhaustive.analyse(ai._posts(["Morning run by the sea, then breakfast"]))
        assert result.raw["category_candidates"] == len(exhaustive.options.categories)
    finally:
        registry.reset_engines()
