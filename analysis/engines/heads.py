"""The embeddings engine's trained heads: category prototypes and a sentiment classifier.

Pure numpy (the file is read at start-up; training is in ``analysis.engines.training``).
Heads fit only the embedding model that trained them: one file per model,
``heads/heads-v<N>-<model>.npz`` (``default_heads_file``), its ``meta["model"]`` checked
when an engine loads it (``check_heads_model``). v4 (2026-12-06): one file for the default
model, multilingual-e5-small, and one for all-MiniLM-L6-v2, trained with keyword evidence
that no longer depends on the hash seed and a temperature grid reaching down to 0.005. Each
holds:

- ``categories`` (k names) and ``prototypes`` (k x 384 unit vectors): each category's
  prototype is the normalised mean of its label descriptions' embeddings
  (``CATEGORY_DESCRIPTIONS``, written by hand) plus ``prototype_example_weight`` x the
  normalised mean of its training tweets' embeddings (TweetTopic, Spanish train split,
  topics mapped to categories by ``TOPIC_TO_CATEGORIES``) plus (v3) ``pool_weight`` x the
  normalised mean of its English pool tweets (XLM-T English training tweets given a weak
  label by the keyword tables, ``analysis.engines.training``); ``category_temperature`` turns
  cosine similarities into probabilities (softmax of cos / T); ``meta`` holds the keyword
  evidence weight and (v2) ``category_default_threshold``, below which the general category
  is chosen (``analysis.engines.training.choose_category``);
- ``sentiment_weights`` ((384 + 2) x 3) and ``sentiment_bias`` (3): a multinomial logistic
  regression over [caption embedding, lexicon compound, lexicon supported] for (negative,
  neutral, positive), trained on the XLM-T multilingual tweets (train split only);
  ``sentiment_languages``: the languages where it beat the lexicon on the held-out part of
  the training data (elsewhere the lexicon decides, as in the rule engine);
- ``meta``: a JSON string (version, seed, data files and their sha256, held-out scores).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from analysis.embeddings import DEFAULT_MODEL

HEADS_VERSION = 4
HEADS_DIR = Path(__file__).resolve().parent / "heads"
SENTIMENT_CLASSES = ("negative", "neutral", "positive")

# Label descriptions: what a post of each category is about (English, by hand; no data).
CATEGORY_DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "Fashion": (
        "fashion, outfits and personal style",
        "what I wore today: clothes, shoes, a new jacket and accessories",
        "streetwear, designer brands, fashion week and the runway",
    ),
    "Beauty": (
        "makeup, skincare and beauty products",
        "my makeup look, lipstick, nails and hair styling tutorial",
        "cosmetics, perfume and beauty routines",
    ),
    "Fitness": (
        "workout, gym training and exercise",
        "running, lifting weights, yoga and getting fit",
        "fitness motivation and personal training",
    ),
    "Food": (
        "food, cooking and recipes",
        "eating at a restaurant, dinner, lunch, coffee and dessert",
        "homemade meal, baking, chef and delicious dishes",
    ),
    "Travel": (
        "travel, vacation and exploring the world",
        "a trip abroad, flights, hotels, beaches and sightseeing",
        "road trip and adventure in a new city or country",
    ),
    "Tech": (
        "technology, gadgets and software",
        "new smartphone, computers, apps, AI, science and the internet",
        "programming, startups in tech and electronics",
    ),
    "Gaming": (
        "video games and gaming",
        "playing on PlayStation, Xbox, Nintendo or PC; esports and streaming games",
        "a new game release, gameplay and gamers",
    ),
    "Music": (
        "music, songs and musicians",
        "a new single, album, concert, tour, singer, band or DJ set",
        "listening to music, live gig, rap, pop and rock",
    ),
    "Art": (
        "art, painting and drawing",
        "an artist's work, exhibition, museum, gallery and illustration",
        "culture, literature, theatre, books and poetry",
    ),
    "Photography": (
        "photography and photos",
        "a photographer's shot, camera, lens, portrait and landscape photography",
        "photo shoot, editing pictures and composition",
    ),
    "Lifestyle": (
        "my daily life and personal diary",
        "everyday moments, weekend, mood, thoughts and feelings",
        "life updates, self care, friends and good vibes",
    ),
    "Parenting": (
        "parenting, family and children",
        "being a mom or dad, my kids, baby and family time",
        "raising children, pregnancy and motherhood",
    ),
    "Business": (
        "business, entrepreneurship and work",
        "startup founder, marketing, sales, money, investing and the economy",
        "company news, career, leadership and productivity",
    ),
    "Education": (
        "education, learning and school",
        "students, university, teachers, studying, exams and classes",
        "tips to learn something new, courses and knowledge",
    ),
    "Sports": (
        "sports, games and athletes",
        "football, soccer, basketball, tennis, the match, the team and the score",
        "the championship, league, players, coach and fans",
    ),
    "Automotive": (
        "cars and automotive",
        "a new car, motorcycle, driving, engines and racing",
        "car review, supercars and vehicles",
    ),
    "Pets": (
        "pets and animals",
        "my dog, cat or puppy; cute animal photos",
        "pet care, adopting a pet and animal lovers",
    ),
    "Health": (
        "health, wellness and medicine",
        "mental health, nutrition, sleep, doctors and healthy habits",
        "illness, recovery, diet and wellbeing",
    ),
    "Entertainment": (
        "entertainment, movies and TV",
        "a film, TV series, Netflix, celebrities, actors and pop culture",
        "comedy, memes, shows and celebrity news",
    ),
    "Home & Decor": (
        "home decor and interior design",
        "decorating my house, furniture, living room, kitchen and garden",
        "home renovation, DIY and cozy interiors",
    ),
}

# TweetTopic labels -> our categories (also the table of bench/ai_quality.py's evaluation).
TOPIC_TO_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Arts & Culture": ("Art",),
    "Business & Entrepreneurs": ("Business",),
    "Celebrity & Pop Culture": ("Entertainment",),
    "Diaries & Daily Life": ("Lifestyle",),
    "Family": ("Parenting",),
    "Fashion & Style": ("Fashion", "Beauty"),
    "Film, TV & Video": ("Entertainment",),
    "Fitness & Health": ("Fitness", "Health"),
    "Food & Dining": ("Food",),
    "Gaming": ("Gaming",),
    "Learning & Educational": ("Education",),
    "Music": ("Music",),
    "News & Social Concern": (),
    "Other Hobbies": (),
    "Relationships": (),
    "Science & Technology": ("Tech",),
    "Sports": ("Sports",),
    "Travel & Adventure": ("Travel",),
    "Youth & Student Life": ("Education",),
}


def topic_examples(path: Path) -> tuple[list[str], list[tuple[str, ...]]]:
    """The tweets of a TweetTopic ``.jsonl`` file whose topics map to categories, with their allowed sets."""
    texts: list[str] = []
    allowed: list[tuple[str, ...]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        cats: list[str] = []
        for topic in row.get("topics", []):
            cats.extend(c for c in TOPIC_TO_CATEGORIES.get(topic, ()) if c not in cats)
        if cats:
            texts.append(row["text"])
            allowed.append(tuple(cats))
    return texts, allowed


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


@dataclass
class Heads:
    categories: list[str]
    prototypes: np.ndarray  # k x d, unit rows
    category_temperature: float
    sentiment_weights: np.ndarray  # (d + 2) x 3
    sentiment_bias: np.ndarray  # 3
    sentiment_languages: frozenset[str]
    meta: dict[str, Any] = field(default_factory=dict)
    digest: str = ""

    @property
    def version(self) -> str:
        return f"heads-v{self.meta.get('version', HEADS_VERSION)}-{self.digest[:8]}"

    def prototypes_for(self, categories: Sequence[str], encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """The prototypes of ``categories`` in that order (k x d); a category the heads were not
        trained for gets the embedding of "a post about <name>" (``encode``: the embedding model)."""
        prototypes = dict(zip(self.categories, self.prototypes, strict=True))
        unknown = [c for c in categories if c not in prototypes]
        if unknown:
            prototypes.update(zip(unknown, encode([f"a post about {c}" for c in unknown]), strict=True))
        return np.stack([prototypes[c] for c in categories]).astype(np.float32)

    def category_probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """n x k probabilities: softmax over categories of cosine(vector, prototype) / T."""
        return softmax((vectors @ self.prototypes.T) / self.category_temperature)

    def sentiment_probabilities(self, vectors: np.ndarray, compounds: np.ndarray, supported: np.ndarray) -> np.ndarray:
        """n x 3 probabilities (negative, neutral, positive) of the logistic head."""
        features = np.hstack([vectors, compounds[:, None], supported[:, None].astype(np.float32)])
        return softmax(features @ self.sentiment_weights + self.sentiment_bias)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            np.savez_compressed(
                handle,
                categories=np.array(self.categories),
                prototypes=self.prototypes.astype(np.float32),
                category_temperature=np.float32(self.category_temperature),
                sentiment_weights=self.sentiment_weights.astype(np.float32),
                sentiment_bias=self.sentiment_bias.astype(np.float32),
                sentiment_languages=np.array(sorted(self.sentiment_languages)),
                meta=np.array(json.dumps(self.meta, sort_keys=True)),
            )


def heads_digest(heads: Heads) -> str:
    """sha256 of the heads' contents (not of the file, whose zip entries carry timestamps)."""
    digest = hashlib.sha256()
    for part in (
        "\x1f".join(heads.categories),
        heads.prototypes.astype(np.float32).tobytes(),
        repr(round(heads.category_temperature, 6)),
        heads.sentiment_weights.astype(np.float32).tobytes(),
        heads.sentiment_bias.astype(np.float32).tobytes(),
        ",".join(sorted(heads.sentiment_languages)),
        json.dumps(heads.meta.get("category_evidence_weight")),
        json.dumps(heads.meta.get("category_default_threshold")),
    ):
        digest.update(part if isinstance(part, bytes) else part.encode())
    return digest.hexdigest()


def default_heads_file(model: str | None = None) -> Path:
    """The committed heads of an embedding model (default: ``AI_EMBEDDING_MODEL``):
    ``heads/heads-v<N>-<model>.npz``. Heads only fit the model that trained them."""
    if model is None:
        from django.conf import settings

        model = settings.AI_EMBEDDING_MODEL
    slug = re.sub(r"[^a-z0-9.]+", "-", (model or DEFAULT_MODEL).lower()).strip("-")
    return HEADS_DIR / f"heads-v{HEADS_VERSION}-{slug}.npz"


def load_heads(path: str | Path | None = None, *, model: str | None = None) -> Heads:
    """The heads in ``path`` (default: the committed file for ``model``, ``default_heads_file``)."""
    path = Path(path) if path else default_heads_file(model)
    if not path.is_file():
        raise FileNotFoundError(
            f"no heads file {path}: train one for this embedding model with manage.py ai_train_heads "
            "(and set AI_EMBEDDING_HEADS to it)"
        )
    with np.load(path, allow_pickle=False) as data:
        heads = Heads(
            categories=[str(c) for c in data["categories"]],
            prototypes=data["prototypes"].astype(np.float32),
            category_temperature=float(data["category_temperature"]),
            sentiment_weights=data["sentiment_weights"].astype(np.float32),
            sentiment_bias=data["sentiment_bias"].astype(np.float32),
            sentiment_languages=frozenset(str(c) for c in data["sentiment_languages"]),
            meta=json.loads(str(data["meta"])),
        )
    heads.digest = heads_digest(heads)
    return heads


def check_heads_model(heads: Heads, model_id: str) -> None:
    """Refuse heads trained on another embedding model's vectors (their prototypes mean nothing here)."""
    trained = heads.meta.get("model")
    if trained and trained != model_id:
        raise ValueError(
            f"the heads {heads.version} were trained with the embedding model {trained!r}, not {model_id!r}: "
            "set AI_EMBEDDING_HEADS to heads of this model (manage.py ai_train_heads)"
        )
