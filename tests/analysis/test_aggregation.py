"""Profile aggregation on hand-computed values."""

import math

import pytest

from analysis.aggregation import (
    QUALITY_WEIGHTS,
    PostAnalysis,
    aggregate_profile,
    caption_substance,
    category_focus,
    distribution,
    hashtag_hygiene,
    primary_category,
    tone,
)
from analysis.engines.base import PostResult


def post(category, confidence=0.5, score=0.0, language="en", caption="", hashtags=()):
    return PostAnalysis(category, confidence, score, language, caption, tuple(hashtags))


def test_distribution_shares_sum_to_one_and_are_ordered():
    shares = distribution(["a", "b", "b", "c", "c", "c"])
    assert list(shares) == ["c", "b", "a"]
    assert shares == {"c": 0.5, "b": 0.3333, "a": 0.1667}
    thirds = distribution(["x", "y", "z"])
    assert thirds == {"x": 0.3334, "y": 0.3333, "z": 0.3333}  # residue to the first
    assert sum(thirds.values()) == pytest.approx(1.0, abs=1e-9)
    assert distribution([]) == {}


def test_primary_category_ties_go_to_summed_confidence_then_name():
    posts = [post("Food", 0.9), post("Travel", 0.4), post("Travel", 0.4), post("Food", 0.2)]
    assert primary_category(posts) == "Food"  # 2 each; Food 1.1 > Travel 0.8
    assert primary_category([post("Travel", 0.5), post("Art", 0.5)]) == "Art"
    assert primary_category([post("Food"), post("Travel"), post("Travel")]) == "Travel"


def test_components():
    assert caption_substance("") == 0
    assert caption_substance("one two three four five #tag @who https://x.y/z") == 0.25
    assert caption_substance(" ".join(["word"] * 30)) == 1
    assert [hashtag_hygiene(n) for n in (0, 1, 10, 20, 30, 40)] == [0.7, 1, 1, 0.5, 0, 0]
    assert tone(0) == pytest.approx(0.8)
    assert tone(1) == pytest.approx(1.0)
    assert tone(0.5) == pytest.approx(0.9)
    assert tone(-0.5) == pytest.approx(0.4)
    assert tone(-1) == 0
    assert category_focus({"Food": 1.0}, 12) == 1
    assert category_focus({"a": 0.5, "b": 0.5}, 2) == pytest.approx(0.0)
    assert category_focus({"a": 0.5, "b": 0.5}, 4) == pytest.approx(0.5)


def test_aggregate_profile_hand_computed():
    posts = [
        post("Food", 0.8, 0.6, "en", " ".join(["w"] * 20), ["a", "b"]),
        post("Food", 0.6, 0.2, "en", " ".join(["w"] * 10), []),
        post("Travel", 0.9, -0.4, "es", "", [f"t{i}" for i in range(20)]),
        post("Food", 0.7, 0.0, "en", "#x #y " + " ".join(["w"] * 5)),
    ]
    aggregate = aggregate_profile(posts)
    assert aggregate.posts_analysed == 4
    assert aggregate.primary_category == "Food"
    assert aggregate.category_distribution == {"Food": 0.75, "Travel": 0.25}
    assert aggregate.language_distribution == {"en": 0.75, "es": 0.25}
    assert aggregate.avg_sentiment_score == pytest.approx(0.1)

    substance = (1 + 0.5 + 0 + 0.25) / 4
    hygiene = (1 + 0.7 + 0.5 + 1) / 4  # the 4th post's hashtags come from its caption
    tones = (0.92 + 0.84 + 0.48 + 0.8) / 4
    entropy = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    focus = 1 - entropy / math.log(4)
    consistency = 0.75
    expected = 0.25 * substance + 0.15 * hygiene + 0.20 * tones + 0.25 * focus + 0.15 * consistency
    assert aggregate.quality_components == {
        "caption_substance": round(substance, 4),
        "hashtag_hygiene": round(hygiene, 4),
        "tone": round(tones, 4),
        "category_focus": round(focus, 4),
        "language_consistency": 0.75,
    }
    assert aggregate.content_quality_score == round(expected, 4)
    assert sum(QUALITY_WEIGHTS.values()) == pytest.approx(1.0)
    assert aggregate.profile_fields() == {
        "ai_primary_content_type": "Food",
        "ai_content_distribution": {"Food": 0.75, "Travel": 0.25},
        "ai_avg_sentiment_score": 0.1,
        "ai_language_distribution": {"en": 0.75, "es": 0.25},
        "ai_content_quality_score": round(expected, 4),
    }


def test_best_and_worst_profiles_span_the_range():
    best = aggregate_profile([post("Food", 0.9, 1.0, "en", " ".join(["w"] * 25), ["food"])] * 12)
    assert best.content_quality_score == 1.0
    worst = aggregate_profile(
        [
            post(c, 0.5, -1.0, lang, "", [f"t{i}" for i in range(30)])
            for c, lang in zip("ABCD", ["en", "es", "fr", "de"], strict=True)
        ]
    )
    assert worst.content_quality_score == pytest.approx(0.15 * 0.25)  # only language consistency 0.25 remains


def test_unanalysed_posts_are_skipped_and_empty_is_empty():
    aggregate = aggregate_profile([post(""), post("Art", 0.5, 0.5, "fr")])
    assert aggregate.posts_analysed == 1
    assert aggregate.category_distribution == {"Art": 1.0}
    empty = aggregate_profile([])
    assert empty.primary_category == "" and empty.avg_sentiment_score is None
    assert empty.content_quality_score is None and empty.category_distribution == {}


def test_from_result_and_from_post():
    result = PostResult("k", "positive", 0.7, 0.9, "en", 0.99, "Food", 0.6, "rules", "v")
    analysis = PostAnalysis.from_result(result, caption="hi", hashtags=["a"])
    assert analysis == PostAnalysis("Food", 0.6, 0.7, "en", "hi", ("a",))

    class Stored:
        ai_content_category = "Travel"
        ai_category_confidence = None
        ai_sentiment_score = -0.2
        ai_language_code = "es"
        caption = None
        hashtags = ["playa"]

    assert PostAnalysis.from_post(Stored()) == PostAnalysis("Travel", 0.0, -0.2, "es", "", ("playa",))
