"""AI benchmark: the old way (three pipelines, one post at a time) against the transformer engine.

    python bench/ai.py [--quick] [--models DIR] [--count N]
    python bench/ai.py --creator [--configs fast,fast_ct64,...] [--threads N]

Models of the real architectures and sizes with random weights (``bench/_models.py``; built
once into ``--models``, default ``$TMPDIR/cas-bench-ai-models``), real captions (the 12
Humans of New York captions plus tweets), the 20 configured categories. Each mode runs in
its own process so that peak RSS is per mode:

- ``old``: ``transformers.pipeline`` per model, post by post; the zero-shot pipeline runs
  one NLI pass per category;
- ``exact``: the engine in fp32 with no truncation below the models' limits, every
  category, no evidence blending — must give the old way's labels;
- ``fast``: fast mode as a worker runs it: ``AI_QUANTIZE=int8``, ``AI_MAX_TOKENS=128`` and
  the default ``AI_CATEGORY_TOP_K=5`` of int8, shortlisted by keyword evidence then by the
  embedding model (the registry's shortlist; the embedding model is loaded beside the three
  others, as in the AI worker); also timed on a new 12-post creator (the 12 captions, models
  already loaded, nothing cached);
- ``fast_all`` (only with ``--modes``): ``fast`` without the shortlist, every category on
  every post without evidence (the ``fast`` of the figures before 2026-12-06);
- ``fast_topk`` (only with ``--modes``): ``fast_all`` plus ``AI_CATEGORY_TOP_K=5`` by keyword
  evidence alone (all 20 categories without any);
- ``fast_x86`` (only with ``--modes``): ``fast`` on torch's default int8 engine (fbgemm)
  instead of ``AI_INT8_BACKEND=auto`` (oneDNN on AMX CPUs);
- ``fast_bf16`` (only with ``--modes``): ``AI_QUANTIZE=bf16`` instead of int8.

``--creator`` measures only the AI of a new 12-post creator (the 12 Humans of New York
captions, long ones) against the 20 s target, for fast mode and the speed settings on top of
it (``CREATOR_CONFIGS``), each in its own process: models loaded first (as a worker does at
start), nothing cached, analysed twice (a worker's first creator, then a later one), with
where the time goes (seconds, forward passes and padded tokens per model, NLI pairs) and the
load average of the machine, since other processes on a shared machine slow it down.

Prints posts/hour, CPU seconds per post, peak RSS, the speed-up over the old way measured in
the same run (wall and CPU), and the share of labels equal to the old way's and to exact
mode's, then one JSON line with every figure. Labels of random-weight models are close to
ties, so the fast mode's agreement understates what trained models (confident outputs) give.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

HASHTAG_RE = re.compile(r"(?<![\w#])#(\w+)")
QUICK_COUNT = 8
FULL_COUNT = 64
CREATOR_POSTS = 12


def _setup_django():
    import django

    django.setup()
    from django.conf import settings

    return list(settings.AI_CATEGORIES), settings.AI_HYPOTHESIS_TEMPLATE


def _usage() -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), usage.ru_utime + usage.ru_stime


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _posts(captions: list[str]):
    from analysis.engines.base import PostInput

    return [PostInput(key=str(i), caption=c, hashtags=tuple(HASHTAG_RE.findall(c))) for i, c in enumerate(captions)]


def run_old(paths: dict[str, str], captions: list[str]) -> dict:
    categories, template = _setup_django()
    from transformers import pipeline

    start = _usage()
    sentiment = pipeline("text-classification", model=paths["sentiment"])
    language = pipeline("text-classification", model=paths["language"])
    zero_shot = pipeline("zero-shot-classification", model=paths["category"])
    loaded = _usage()
    labels = []
    for caption in captions:
        s = sentiment(caption, truncation=True)[0]["label"]
        lang = language(caption, truncation=True)[0]["label"]
        c = zero_shot(caption, candidate_labels=categories, hypothesis_template=template)["labels"][0]
        labels.append([s, lang, c])
    done = _usage()
    return _figures(labels, start, loaded, done, len(captions))


def _engine(paths: dict[str, str], *, shortlist: bool = False, **options):
    from analysis.engines.transformer_engine import TransformersEngine, TransformersOptions

    categories, template = _setup_django()
    engine = TransformersEngine(
        TransformersOptions(
            sentiment_model=paths["sentiment"],
            language_model=paths["language"],
            category_model=paths["category"],
            categories=tuple(categories),
            hypothesis_template=template,
            evidence_weight=0.0,  # compare the models' labels, not the keyword blend
            cache_seconds=0,  # measure the models, not the cache
            device="cpu",
            **options,
        )
    )
    if shortlist:
        # What the registry attaches in a worker: the shortlist on the standalone embedding model.
        from analysis.engines.registry import _shortlist

        engine.use_shortlist(_shortlist(engine))
        if engine.shortlist is None:
            raise SystemExit("the embedding shortlist could not be built (see the log above)")
    return engine


MODE_OPTIONS = {
    "exact": {"max_tokens": 0},
    # As deployed: int8's default AI_CATEGORY_TOP_K=5 with the registry's embedding shortlist.
    "fast": {"quantize": "int8", "max_tokens": 128, "top_k": 5, "shortlist": True},
    # Every category on every post without keyword evidence.
    "fast_all": {"quantize": "int8", "max_tokens": 128},
    # Fewer NLI pairs: the 5 categories with most keyword/hashtag evidence (all without any).
    "fast_topk": {"quantize": "int8", "max_tokens": 128, "top_k": 5},
    # The same int8 on torch's default quantized engine (fbgemm) instead of AI_INT8_BACKEND=auto.
    "fast_x86": {"quantize": "int8", "max_tokens": 128, "int8_backend": "x86"},
    # bfloat16 weights and activations instead of int8 (AVX-512 BF16 / AMX CPUs).
    "fast_bf16": {"quantize": "bf16", "max_tokens": 128},
}


FAST = MODE_OPTIONS["fast_all"]
# Fast mode as deployed, then without the shortlist and the settings that cut NLI work on top
# of that: AI_CATEGORY_MAX_TOKENS (ct) and AI_CATEGORY_TOP_K by keyword evidence alone.
CREATOR_CONFIGS = {
    "fast": MODE_OPTIONS["fast"],
    "fast_all": FAST,
    "fast_x86": MODE_OPTIONS["fast_x86"],
    "fast_bf16": MODE_OPTIONS["fast_bf16"],
    "fast_ct64": {**FAST, "category_max_tokens": 64},
    "fast_top5": {**FAST, "top_k": 5},
    "fast_ct64_top5": {**FAST, "category_max_tokens": 64, "top_k": 5},
    "fast_ct48_top5": {**FAST, "category_max_tokens": 48, "top_k": 5},
}
CREATOR_TARGET_SECONDS = 20.0


def run_creator(paths: dict[str, str], *, config: str, threads: int) -> dict:
    from bench._models import apify_captions

    start = _usage()
    engine = _engine(paths, threads=threads, **CREATOR_CONFIGS[config])
    loaded = _usage()
    posts = _posts(apify_captions()[:CREATOR_POSTS])
    models = {"language": engine.language_model, "sentiment": engine.sentiment_model, "nli": engine.category_model}
    runs = []
    for _ in range(2):
        counters = {name: (m.forward_seconds, m.forward_passes, m.padded_tokens) for name, m in models.items()}
        load = os.getloadavg()[0]
        before = _usage()
        results = engine.analyse(posts)
        after = _usage()
        run = {
            "wall_seconds": round(after[0] - before[0], 2),
            "cpu_seconds": round(after[1] - before[1], 2),
            "load_average_1m": round((load + os.getloadavg()[0]) / 2, 2),
            "nli_pairs": sum(r.raw.get("category_candidates", 0) for r in results),
        }
        for name, m in models.items():
            seconds, passes, tokens = counters[name]
            run[f"{name}_seconds"] = round(m.forward_seconds - seconds, 2)
            run[f"{name}_passes"] = m.forward_passes - passes
            run[f"{name}_padded_tokens"] = m.padded_tokens - tokens
        runs.append(run)
    return {
        "config": config,
        "options": CREATOR_CONFIGS[config],
        "threads": threads or None,
        "load_seconds": round(loaded[0] - start[0], 1),
        "peak_rss_mb": round(_peak_rss_mb()),
        "first": runs[0],
        "again": runs[1],
        "categories": [r.category for r in results],
    }


def creator_report(results: dict[str, dict]) -> dict:
    print(
        f"{'config':<15} {'run':<6} {'wall s':>7} {'cpu s':>6} {'load':>5} {'pairs':>5} {'NLI s':>6} "
        f"{'NLI tokens':>10} {'passes':>6} {'lang s':>6} {'sent s':>6}  vs {CREATOR_TARGET_SECONDS:.0f} s"
    )
    summary = {}
    for config, fig in results.items():
        for run_name in ("first", "again"):
            r = fig[run_name]
            verdict = "PASS" if r["wall_seconds"] < CREATOR_TARGET_SECONDS else "MISS"
            print(
                f"{config:<15} {run_name:<6} {r['wall_seconds']:>7} {r['cpu_seconds']:>6} {r['load_average_1m']:>5} "
                f"{r['nli_pairs']:>5} {r['nli_seconds']:>6} {r['nli_padded_tokens']:>10} {r['nli_passes']:>6} "
                f"{r['language_seconds']:>6} {r['sentiment_seconds']:>6}  {verdict}"
            )
        same = sum(a == b for a, b in zip(fig["categories"], results.get("fast", fig)["categories"], strict=True))
        entry = {k: v for k, v in fig.items() if k != "categories"}
        entry["categories_equal_fast"] = f"{same}/{len(fig['categories'])}"
        entry["pass"] = fig["first"]["wall_seconds"] < CREATOR_TARGET_SECONDS
        summary[config] = entry
    for config, entry in summary.items():
        print(f"{config}: options {entry['options']}, peak RSS {entry['peak_rss_mb']} MB, "
              f"categories equal to fast's {entry['categories_equal_fast']}")  # fmt: skip
    return summary


def run_engine(paths: dict[str, str], captions: list[str], *, mode: str) -> dict:
    start = _usage()
    options = MODE_OPTIONS[mode]
    creator = mode != "exact"
    engine = _engine(paths, **options)
    loaded = _usage()
    extra = {}
    if creator:
        before = _usage()
        from bench._models import apify_captions

        engine.analyse(_posts(apify_captions()[:CREATOR_POSTS]))
        after = _usage()
        extra = {"creator_12_seconds": round(after[0] - before[0], 2)}
        loaded = _usage()
    results = engine.analyse(_posts(captions))
    done = _usage()
    labels = [[r.sentiment, r.language, r.category] for r in results]
    figures = _figures(labels, start, loaded, done, len(captions))
    figures.update(extra)
    figures["nli_forward_passes"] = engine.category_model.forward_passes
    # How close the zero-shot top two are: random weights make near-ties, which int8 flips.
    margins = sorted(_margin(r.raw.get("zero_shot") or {}) for r in results)
    figures["category_top2_margin_median"] = round(margins[len(margins) // 2], 4) if margins else None
    return figures


def _margin(scores: dict[str, float]) -> float:
    top = sorted(scores.values(), reverse=True)
    return top[0] - top[1] if len(top) > 1 else 1.0


def _figures(labels, start, loaded, done, count) -> dict:
    wall, cpu = done[0] - loaded[0], done[1] - loaded[1]
    return {
        "posts": count,
        "load_seconds": round(loaded[0] - start[0], 1),
        "wall_seconds": round(wall, 2),
        "posts_per_hour": round(count / wall * 3600),
        "cpu_seconds_per_post": round(cpu / count, 3),
        "peak_rss_mb": round(_peak_rss_mb()),
        "labels": labels,
    }


def _child(mode: str, models: Path, count: int, *extra: str) -> dict:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--mode",
        mode,
        "--models",
        str(models),
        "--count",
        str(count),
        *extra,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if out.returncode != 0:
        raise SystemExit(f"bench/ai.py mode {mode} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _share(a: list[list[str]], b: list[list[str]], field: int | None = None) -> float:
    pairs = list(zip(a, b, strict=True))
    same = sum((x == y) if field is None else (x[field] == y[field]) for x, y in pairs)
    return round(same / len(pairs), 4)


def report(results: dict[str, dict]) -> dict:
    old = results["old"]
    rows = []
    summary: dict[str, dict] = {}
    for mode, fig in results.items():
        entry = {k: v for k, v in fig.items() if k != "labels"}
        entry["speedup_wall"] = round(old["wall_seconds"] / fig["wall_seconds"], 2)
        entry["speedup_cpu"] = round(
            old["cpu_seconds_per_post"] / fig["cpu_seconds_per_post"] if fig["cpu_seconds_per_post"] else 0, 2
        )
        entry["labels_equal_old"] = _share(fig["labels"], old["labels"])
        entry["labels_equal_old_by_field"] = [_share(fig["labels"], old["labels"], i) for i in range(3)]
        if "exact" in results and mode not in ("old", "exact"):
            entry["labels_equal_exact"] = _share(fig["labels"], results["exact"]["labels"])
            entry["labels_equal_exact_by_field"] = [
                _share(fig["labels"], results["exact"]["labels"], i) for i in range(3)
            ]
        summary[mode] = entry
        rows.append(entry)
    header = (
        f"{'mode':<6} {'posts/h':>8} {'cpu s/post':>10} {'peak RSS MB':>11} {'x old (wall)':>12} {'x old (cpu)':>11}"
    )
    print(header)
    for mode, e in summary.items():
        print(
            f"{mode:<6} {e['posts_per_hour']:>8} {e['cpu_seconds_per_post']:>10} {e['peak_rss_mb']:>11} "
            f"{e['speedup_wall']:>12} {e['speedup_cpu']:>11}"
        )
    for mode, e in summary.items():
        line = f"{mode}: labels equal to the old way's {e['labels_equal_old']:.1%} (sentiment/language/category " + (
            "/".join(f"{v:.1%}" for v in e["labels_equal_old_by_field"]) + ")"
        )
        if "labels_equal_exact" in e:
            line += f"; equal to exact mode's {e['labels_equal_exact']:.1%} (" + (
                "/".join(f"{v:.1%}" for v in e["labels_equal_exact_by_field"]) + ")"
            )
        print(line)
    for mode, e in summary.items():
        if e.get("category_top2_margin_median") is not None:
            print(f"{mode}: median zero-shot margin between the top two categories {e['category_top2_margin_median']}")
    for mode, e in summary.items():
        if "creator_12_seconds" in e:
            print(f"{mode}: a new {CREATOR_POSTS}-post creator in {e['creator_12_seconds']} s (models loaded)")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_COUNT} captions instead of {FULL_COUNT}")
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--models", type=Path, default=Path(tempfile.gettempdir()) / "cas-bench-ai-models")
    parser.add_argument("--mode", help=argparse.SUPPRESS)  # a child process: build, a mode or creator:<config>
    parser.add_argument("--modes", default="old,exact,fast", help="also: fast_all, fast_topk, fast_x86, fast_bf16")
    parser.add_argument("--creator", action="store_true", help="time a new 12-post creator against 20 s")
    parser.add_argument("--configs", default=",".join(CREATOR_CONFIGS), help="with --creator")
    parser.add_argument("--threads", type=int, default=0, help="with --creator: torch threads (0: default)")
    args = parser.parse_args(argv)
    count = args.count or (QUICK_COUNT if args.quick else FULL_COUNT)

    from bench._models import benchmark_captions, build_models

    if args.mode:
        paths = build_models(args.models)
        if args.mode == "build":
            print(json.dumps(paths))
            return 0
        if args.mode.startswith("creator:"):
            print(json.dumps(run_creator(paths, config=args.mode.split(":", 1)[1], threads=args.threads)))
            return 0
        captions = benchmark_captions(count)
        if args.mode == "old":
            figures = run_old(paths, captions)
        else:
            figures = run_engine(paths, captions, mode=args.mode)
        print(json.dumps(figures))
        return 0

    _child("build", args.models, count)
    if args.creator:
        print(f"AI for a new {CREATOR_POSTS}-post creator, models of the real sizes in {args.models}", flush=True)
        results = {}
        for config in args.configs.split(","):
            print(f"running {config} ...", flush=True)
            results[config] = _child(f"creator:{config}", args.models, count, "--threads", str(args.threads))
        print(json.dumps({"ai_creator": creator_report(results)}))
        return 0
    print(f"AI benchmark: {count} real captions, models of the real sizes in {args.models}", flush=True)
    results = {}
    for mode in args.modes.split(","):
        print(f"running {mode} ...", flush=True)
        results[mode] = _child(mode, args.models, count)
    summary = report(results)
    print(json.dumps({"ai_bench": summary}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
