"""The rule-based engine on hand-picked captions (no Django settings, no database)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analysis.categories import DEFAULT_CATEGORY, KEYWORDS, category_evidence, pick_category
from analysis.engines.base import FORMAT_VERSION, LANGUAGES, OTHER_LANGUAGE, SENTIMENT_LABELS, PostInput
from analysis.engines.rules import RulesEngine, post_category_evidence
from analysis.engines.rules.sentiment import clean_for_sentiment

CATEGORIES = list(KEYWORDS)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def engine():
    return RulesEngine(CATEGORIES)


def one(engine, caption, hashtags=()):
    return engine.analyse([PostInput(key="k", caption=caption, hashtags=tuple(hashtags))])[0]


@pytest.mark.parametrize(
    ("caption", "label"),
    [
        ("I absolutely love this place, the best weekend ever! 😍", "positive"),
        ("Thank you all so much for the amazing support, feeling grateful", "positive"),
        ("This was the worst customer service I have ever had. Terrible.", "negative"),
        ("So sad and angry about what happened today 😢", "negative"),
        ("The new collection drops on Friday at 9am.", "neutral"),
        ("Feels like Monday again", "neutral"),  # "like" as a preposition carries no valence
    ],
)
def test_sentiment_labels(engine, caption, label):
    result = one(engine, caption)
    assert result.sentiment == label
    assert result.sentiment in SENTIMENT_LABELS
    assert -1 <= result.sentiment_score <= 1
    assert 0 <= result.sentiment_confidence <= 1
    assert result.raw["sentiment_supported"] is True


def test_like_as_verb_keeps_its_valence(engine):
    assert "like" in clean_for_sentiment("I like it")
    assert "like" not in clean_for_sentiment("looks like rain").split()
    assert one(engine, "Feels like Monday again").sentiment_score == 0.0
    assert one(engine, "I like Mondays").sentiment_score > 0.3
    assert one(engine, "I do not like Mondays").sentiment == "negative"


def test_camel_case_hashtags_are_split_for_sentiment(engine):
    assert "Not Happy" in clean_for_sentiment("Monday again #NotHappy")
    assert one(engine, "Flight delayed five hours #NotHappy #WorstDayEver").sentiment == "negative"


def test_non_english_sentiment_is_marked_unsupported(engine):
    result = one(engine, "Hoy fue un día horrible, todo salió mal en el trabajo")
    assert result.language == "es"
    assert result.sentiment == "neutral"
    assert result.raw["sentiment_supported"] is False
    assert result.sentiment_confidence <= 0.3
    # Emoji still speak in any language.
    assert one(engine, "Hoy fue un día increíble con mis amigos 😍😍🥰").sentiment == "positive"


@pytest.mark.parametrize(
    ("caption", "code"),
    [
        ("We spent the whole afternoon walking along the river and talking about books.", "en"),
        ("Pasamos toda la tarde caminando por el río y hablando de libros.", "es"),
        ("Nous avons passé tout l'après-midi à marcher le long de la rivière.", "fr"),
        ("Wir haben den ganzen Nachmittag am Fluss verbracht und über Bücher geredet.", "de"),
        ("私たちは午後ずっと川沿いを散歩して本について話しました。", "ja"),
        ("قضينا فترة ما بعد الظهر كلها نمشي على طول النهر ونتحدث عن الكتب", "ar"),
        ("Мы провели весь день, гуляя вдоль реки и разговаривая о книгах.", "ru"),
    ],
)
def test_language_detection(engine, caption, code):
    result = one(engine, f"{caption} #travel @friend https://example.com/x 🌊")
    assert result.language == code
    assert result.language_confidence > 0.5
    assert result.raw["langid_top3"][0][0] == code


@pytest.mark.parametrize(
    "caption", ["#love #instagood #photooftheday", "😍🔥🙌", "@someone https://t.co/abc", "", "ok"]
)
def test_no_language_text_is_other(engine, caption):
    result = one(engine, caption)
    assert result.language == OTHER_LANGUAGE
    assert result.raw["language_reason"] == "too_short"


def test_negation_stays_inside_its_sentence(engine):
    # Plain VADER negates "worst" with the "not" of the previous sentence (compound +0.08).
    result = one(engine, "Not happy. Worst day ever")
    assert result.sentiment == "negative"
    assert result.raw["vader_sentences"] == [-0.4585, -0.6249]


def test_hashtag_only_captions_still_get_sentiment(engine):
    assert one(engine, "#NotHappy #WorstDayEver").sentiment == "negative"
    assert one(engine, "#blessed #happy 😍").sentiment == "positive"
    assert one(engine, "#tbt #nyc").sentiment == "neutral"


def test_language_outside_the_twenty_is_other(engine):
    result = one(engine, "Jag älskar att resa till Stockholm på sommaren med mina vänner")
    assert "sv" not in LANGUAGES
    assert result.language == OTHER_LANGUAGE
    assert result.raw["language_reason"] == "outside_languages"


@pytest.mark.parametrize(
    ("caption", "hashtags", "category"),
    [
        ("New lipstick and mascara for tonight", (), "Beauty"),
        ("Leg day at the gym: squats and deadlifts", (), "Fitness"),
        ("Homemade pizza recipe, so delicious", (), "Food"),
        ("Sunset at the beach on our vacation", (), "Travel"),
        ("Look what I found", ("dogsofinstagram", "puppy"), "Pets"),
        ("Rainy sunday", ("interiordesign",), "Home & Decor"),
        ("Receta de hoy: tarta de chocolate", (), "Food"),
        ("Nouvelle voiture pour le week-end", (), "Automotive"),
        ("Gol! Che partita stasera, forza squadra", (), "Sports"),
        ("Loving my new sneakers #ootd", (), "Fashion"),
    ],
)
def test_categories_from_keywords_and_hashtags(engine, caption, hashtags, category):
    result = one(engine, caption, hashtags)
    assert result.category == category
    assert result.raw["category_source"] == "keywords"
    assert result.category_confidence > 0.1


def test_hashtags_weigh_more_than_words():
    evidence = category_evidence("music", ["fitness"], CATEGORIES)
    assert evidence["Fitness"] == 2.0
    assert evidence["Music"] == 1.0
    assert next(iter(evidence)) == "Fitness"


def test_plurals_and_contained_hashtags_match():
    assert category_evidence("two puppies and three kittens", (), ["Pets"])["Pets"] == 2.0
    assert category_evidence("#foodlover", (), ["Food"])["Food"] == 1.0


def test_a_word_and_its_plural_count_once_whatever_the_hash_seed():
    """Evidence must not depend on set order, which changes with each process's hash seed.

    "puppies" has two shortest forms ("puppi", "puppy"): keyed by whichever a set yielded
    first, it merged with "puppy" in some processes and counted twice in others, so the
    same caption got different evidence (and heads training different weak labels)."""
    code = (
        "import json; from analysis.categories import category_evidence; "
        "print(json.dumps([category_evidence(c, (), ['Pets', 'Art']) for c in "
        "['puppies puppy', 'puppy puppies', 'stories story', '#puppies puppy']]))"
    )
    outputs = set()
    for seed in range(8):
        env = {**os.environ, "PYTHONHASHSEED": str(seed)}
        done = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=REPO
        )
        outputs.add(done.stdout)
    assert len(outputs) == 1
    assert category_evidence("puppies puppy", (), ["Pets"])["Pets"] == 1.0


def test_word_boundaries_are_respected():
    # "cart" contains "car", "heart" contains "art": neither is a keyword match.
    evidence = category_evidence("my cart and my heart", (), CATEGORIES)
    assert evidence["Automotive"] == 0.0
    assert evidence["Art"] == 0.0
    # Accents are stripped, so keywords must not collide with common words of other
    # languages: Portuguese "até" (until) is not "ate", "aí" (there) is not "AI".
    assert sum(category_evidence("Até amanhã, tudo bem aí?", (), CATEGORIES).values()) == 0.0
    assert category_evidence("Un café en el centro", (), ["Food"])["Food"] == 1.0


def test_no_evidence_defaults_to_lifestyle_with_low_confidence(engine):
    result = one(engine, "Just thinking out loud today")
    assert result.category == DEFAULT_CATEGORY
    assert result.category_confidence == 0.1
    assert result.raw["category_source"] == "default"
    assert result.raw["category_evidence"] == {}


def test_unknown_categories_never_win_by_keywords():
    categories = ["Crypto Memes", "Food"]
    evidence = category_evidence("crypto memes and pizza", (), categories)
    assert evidence == {"Food": 1.0, "Crypto Memes": 0.0}
    assert pick_category({"Crypto Memes": 0.0}, ["Crypto Memes"], "Lifestyle") == ("Crypto Memes", 0.1, False)


def test_post_category_evidence_ranks_all_categories():
    post = PostInput(key="p", caption="Morning run before coffee", hashtags=("marathon",))
    evidence = post_category_evidence(post, CATEGORIES)
    assert next(iter(evidence)) == "Fitness"
    assert set(evidence) == set(CATEGORIES)


def test_batch_order_keys_and_shape(engine):
    posts = [PostInput(key=f"post-{i}", caption=c) for i, c in enumerate(["I love it", "", "Terrible day", "#gym"])]
    results = engine.analyse(posts)
    assert [r.key for r in results] == [p.key for p in posts]
    for result in results:
        data = result.to_dict()
        assert data["engine"] == "rules"
        assert data["engine_version"] == engine.version
        assert engine.version.startswith("rules:vader-") and engine.version.endswith(f":f{FORMAT_VERSION}")
        expected_raw = {"vader_compound", "vader_sentences", "langid_top3", "category_evidence", "sentiment_supported"}
        assert expected_raw <= set(data["raw"])
        assert result.category in CATEGORIES
    assert results[1].sentiment == "neutral" and results[1].language == OTHER_LANGUAGE
    assert engine.analyse([]) == []


def test_default_categories_come_from_settings(settings):
    settings.AI_CATEGORIES = ["Food", "Travel"]
    assert RulesEngine().categories == ["Food", "Travel"]


def test_twelve_posts_are_fast(engine):
    engine.analyse([PostInput(key="warm", caption="warm up")])
    posts = [
        PostInput(key=str(i), caption="Amazing brunch in Lisbon with friends! #food #travel " * 5) for i in range(12)
    ]
    started = time.perf_counter()
    engine.analyse(posts)
    assert time.perf_counter() - started < 0.5
