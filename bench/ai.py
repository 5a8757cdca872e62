"""AI benchmark: the old way (three pipelines, one post at a time) against the transformer engine.

    python bench/ai.py [--quick] [--models DIR] [--count N]

Models of the real architectures and sizes with random weights (``bench/_models.py``; built
once into ``--models``, default ``$TMPDIR/cas-bench-ai-models``), real captions (the 12
Humans of New York captions plus tweets), the 20 configured categories. Each mode runs in
its own process so that peak RSS is per mode:

- ``old``: ``transformers.pipeline`` per model, post by post; the zero-shot pipeline runs
  one NLI pass per category;
- ``exact``: the engine in fp32 with no truncation below the models' limits, every
  category, no evidence blending — must give the old way's labels;
- ``fast``: the engine with ``AI_QUANTIZE=int8`` and ``AI_MAX_TOKENS=128``; also timed on a
  new 12-post creator (the 12 captions, models already loaded, nothing cached);
- ``fast_topk`` (only with ``--modes``): ``fast`` plus ``AI_CATEGORY_TOP_K=5``.

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


def _engine(paths: dict[str, str], **options):
    from analysis.engines.transformer_engine import TransformersEngine, TransformersOptions

    categories, template = _setup_django()
    return TransformersEngine(
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


MODE_OPTIONS = {
    "exact": {"max_tokens": 0},
    "fast": {"quantize": "int8", "max_tokens": 128},
    # Fewer NLI pairs: the 5 categories with most keyword/hashtag evidence (all without any).
    "fast_topk": {"quantize": "int8", "max_tokens": 128, "top_k": 5},
}


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


def _child(mode: str, models: Path, count: int) -> dict:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--mode",
        mode,
        "--models",
        str(models),
        "--count",
        str(count),
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
    parser.add_argument("--mode", choices=["build", "old", "exact", "fast", "fast_topk"], help=argparse.SUPPRESS)
    parser.add_argument("--modes", default="old,exact,fast", help="add fast_topk for int8 + 128 tokens + top-5")
    args = parser.parse_args(argv)
    count = args.count or (QUICK_COUNT if args.quick else FULL_COUNT)

    from bench._models import benchmark_captions, build_models

    if args.mode:
        paths = build_models(args.models)
        if args.mode == "build":
            print(json.dumps(paths))
            return 0
        captions = benchmark_captions(count)
        if args.mode == "old":
            figures = run_old(paths, captions)
        else:
            figures = run_engine(paths, captions, mode=args.mode)
        print(json.dumps(figures))
        return 0

    print(f"AI benchmark: {count} real captions, models of the real sizes in {args.models}", flush=True)
    _child("build", args.models, count)
    results = {}
    for mode in args.modes.split(","):
        print(f"running {mode} ...", flush=True)
        results[mode] = _child(mode, args.models, count)
    summary = report(results)
    print(json.dumps({"ai_bench": summary}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
