"""The creator pipeline: start a job, run its steps (scrape, media, ai), finish or fail it.

Each step is one service called by one thin task (``analysis.tasks``) on its own queue. Every
step is idempotent: it begins by locking the job row and checking the job is in a state where
the step may run, it only does what is still missing, and upserts by natural keys (Instagram
ids, content hashes) so that a task delivered twice changes nothing. The next step is queued
on commit. See ``AnalysisJob`` for the allowed transitions.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from django.conf import settings
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from analysis import embeddings as recipe
from analysis.aggregation import PostAnalysis, aggregate_profile
from analysis.engines.base import Engine, PostInput
from analysis.engines.registry import get_embedder, get_engine, models_allowed  # no model library at import
from analysis.models import AnalysisJob, AnalysisJobEvent, PostEmbedding, ProfileEmbedding
from analysis.redaction import public_detail
from analysis.selectors import repair_steps
from cdn.services import image_assets_store_many
from config.tasks import task_send, task_send_on_commit
from profiles import services as profile_services
from profiles.models import Post, Profile
from profiles.providers.base import ProviderError
from profiles.selectors.completeness import profile_completeness

logger = logging.getLogger(__name__)

Status = AnalysisJob.Status
Step = AnalysisJob.Step
ErrorCategory = AnalysisJob.ErrorCategory

# ``job.options`` key: end the job after its scrape when the account has fewer followers.
MIN_FOLLOWERS = "min_followers"
# ``job.result`` key set when the job ended early on purpose: {"reason", "after", "detail", ...}.
STOPPED = "stopped"

# Each step: the status it runs in, its progress window and its timing fields.
_STEPS: dict[str, dict[str, Any]] = {
    Step.SCRAPE: {"status": Status.SCRAPING, "progress": (5, 30), "field": "scrape"},
    Step.MEDIA: {"status": Status.STORING_MEDIA, "progress": (30, 60), "field": "media"},
    Step.AI: {"status": Status.ANALYSING, "progress": (60, 95), "field": "ai"},
}
_ORDER = [Status.QUEUED, Status.SCRAPING, Status.STORING_MEDIA, Status.ANALYSING]


def _event(job: AnalysisJob, message: str, **data: Any) -> None:
    AnalysisJobEvent.objects.create(job=job, status=job.status, progress=job.progress, message=message, data=data)


# The task that runs each step (``analysis.tasks``, which imports this module: queued by name).
_STEP_TASKS = {
    Step.SCRAPE: "analysis.tasks.scrape_profile",
    Step.MEDIA: "analysis.tasks.store_media",
    Step.AI: "analysis.tasks.analyse_posts",
}
_local = threading.local()


def _enqueue(job_id: Any, step: str | None) -> None:
    if step is not None:
        pipeline_dispatch(_STEP_TASKS[step], str(job_id))


def pipeline_dispatch(task_name: str, job_id: str) -> None:
    """Queue the step task ``task_name`` for ``job_id``.

    With a broker this is ``delay``. In the embedded default (eager tasks, no broker) the
    pipeline runs in one background thread so that the request that started it returns at
    once and its progress can be followed, like with real workers.
    """
    if not (settings.CELERY_TASK_ALWAYS_EAGER and settings.PIPELINE_EAGER_THREAD) or getattr(_local, "inside", False):
        task_send(task_name, job_id)
        return

    def run() -> None:
        _local.inside = True
        try:
            task_send(task_name, job_id)
        except Exception:
            logger.exception("pipeline thread for job %s ended with an error", job_id)
        finally:
            # This thread ends here: its connections go with it (close_old_connections would
            # keep those younger than CONN_MAX_AGE, one leaked per job, until "too many clients").
            connections.close_all()

    threading.Thread(target=run, name=f"pipeline-{job_id}", daemon=True).start()


@contextmanager
def inline_pipeline() -> Iterator[None]:
    """Run eager pipelines in the calling thread (management commands, which exit after).

    Inside it, ``AI_ENGINE=auto`` may load the AI models (the command's process is not the
    web process): ``make run``'s ``load_sample_creators`` analyses with the embeddings engine.
    """
    previous = getattr(_local, "inside", False)
    _local.inside = True
    try:
        with models_allowed():  # a command's own process, not the web process: auto may load models
            yield
    finally:
        _local.inside = previous


def job_start(
    *,
    username: str,
    requested_by: Any = None,
    team: Any = None,
    trigger: str = AnalysisJob.Trigger.USER,
    steps: Iterable[str] | None = None,
    options: dict[str, Any] | None = None,
) -> tuple[AnalysisJob, bool]:
    """Start the pipeline for ``username``, or join the job already running for it.

    Returns ``(job, created)``. One active job per username is enforced by the database, so
    two concurrent requests get the same job.
    """
    username = profile_services.username_clean(username)
    ordered = [step for step in AnalysisJob.ALL_STEPS if steps is None or step in set(steps)]
    existing = AnalysisJob.objects.filter(username=username, status__in=AnalysisJob.ACTIVE_STATUSES).first()
    if existing is not None:
        if MIN_FOLLOWERS in existing.options and MIN_FOLLOWERS not in (options or {}):
            _job_drop_min_followers(existing)
        return existing, False
    try:
        with transaction.atomic():
            job = AnalysisJob.objects.create(
                username=username,
                profile=Profile.objects.filter(username=username).first(),
                requested_by=requested_by,
                team=team,
                trigger=trigger,
                steps=[str(step) for step in ordered],
                options=options or {},
            )
            _event(job, "queued", steps=job.steps)
    except IntegrityError:  # a concurrent request created it first: join that job
        existing = AnalysisJob.objects.get(username=username, status__in=AnalysisJob.ACTIVE_STATUSES)
        if MIN_FOLLOWERS in existing.options and MIN_FOLLOWERS not in (options or {}):
            _job_drop_min_followers(existing)
        return existing, False
    first = job.steps[0] if job.steps else None
    if first is None:
        transaction.on_commit(lambda: job_finish(job_id=job.pk))
    else:
        transaction.on_commit(lambda: _enqueue(job.pk, first))
    return job, True


def _job_drop_min_followers(job: AnalysisJob) -> None:
    """A request that wants the whole report joins a job that would stop after its scrape.

    The scrape step reads the options under the job's lock after scraping, so either this
    runs first (the job goes on to media and AI) or the scrape has already decided to stop:
    then the job ends ``partial`` with ``result["stopped"]`` and the creator stays incomplete
    until its next job (a repair, or the next unlock request once this job has ended).
    """
    with transaction.atomic():
        locked = AnalysisJob.objects.select_for_update().filter(pk=job.pk).first()
        if locked is None or MIN_FOLLOWERS not in locked.options:
            return
        locked.options = {key: value for key, value in locked.options.items() if key != MIN_FOLLOWERS}
        locked.save(update_fields=["options", "updated_at"])
        _event(locked, "the follower minimum was lifted: a request wants the whole report")
    job.options = locked.options


def _step_begin(job_id: Any, step: str) -> AnalysisJob | None:
    """Lock the job and move it into ``step``; None when the step must not run (again)."""
    spec = _STEPS[step]
    with transaction.atomic():
        job = AnalysisJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in AnalysisJob.TERMINAL_STATUSES or step not in job.steps:
            return None
        if _ORDER.index(job.status) > _ORDER.index(spec["status"]):
            return None  # a duplicate delivery of a step already done
        now = timezone.now()
        if job.status != spec["status"]:
            job.status = spec["status"]
            job.progress = spec["progress"][0]
            setattr(job, f"{spec['field']}_started_at", now)
            job.started_at = job.started_at or now
            job.save(update_fields=["status", "progress", f"{spec['field']}_started_at", "started_at", "updated_at"])
            _event(job, f"{step} started")
        return job


def _step_end(job: AnalysisJob, step: str, message: str, *, last: bool = False, **data: Any) -> None:
    """Record the end of ``step`` and queue the next one (or finish the job).

    ``last`` ends the job after this step: the steps it will not run are dropped from
    ``job.steps``, so that no AI batch of another job claims it meanwhile.
    """
    spec = _STEPS[step]
    job.progress = spec["progress"][1]
    setattr(job, f"{spec['field']}_finished_at", timezone.now())
    job.result = {**job.result, step: data}
    if last:
        job.steps = job.steps[: job.steps.index(step) + 1]
    job.save()
    _event(job, message, **data)
    following = job.steps[job.steps.index(step) + 1 :]
    if following:
        transaction.on_commit(lambda: _enqueue(job.pk, following[0]))
    else:
        transaction.on_commit(lambda: job_finish(job_id=job.pk))


def job_run_scrape(*, job_id: Any) -> AnalysisJob | None:
    """Fetch the creator from the provider and upsert profile, posts, related, snapshot.

    Retryable provider errors propagate so that the task retries them; permanent ones end the
    job ``failed`` with the provider's category (not_found, private, ...).
    """
    job = _step_begin(job_id, Step.SCRAPE)
    if job is None:
        return None
    AnalysisJob.objects.filter(pk=job.pk).update(attempts=job.attempts + 1)
    job.attempts += 1
    try:
        profile = profile_services.profile_scrape(username=job.username)
    except ProviderError as exc:
        if exc.retryable:
            raise
        job_fail(job_id=job.pk, stage=Step.SCRAPE, category=ErrorCategory.from_provider(exc.category), detail=str(exc))
        return None
    with transaction.atomic():
        # Locked and read again: a user request joining this job meanwhile drops ``min_followers``.
        job = AnalysisJob.objects.select_for_update().get(pk=job.pk)
        job.profile = profile
        snapshot = profile.snapshots.order_by("-captured_at").first()
        stop = _stop_after_scrape(job, profile)
        if stop:
            job.result = {**job.result, STOPPED: stop}
        _step_end(
            job,
            Step.SCRAPE,
            f"scraped @{profile.username}" + (f"; stopped: {stop['detail']}" if stop else ""),
            last=bool(stop),
            posts=profile.posts.count(),
            related=profile.related_profiles.count(),
            snapshot_at=snapshot.captured_at.isoformat() if snapshot else None,
        )
    return job


def _stop_after_scrape(job: AnalysisJob, profile: Profile) -> dict[str, Any] | None:
    """Why the job ends after its scrape (``options["min_followers"]``), or None to go on.

    Jobs that nobody asked for (discovery) set a follower minimum: an account below it is not
    worth the media and AI work, so the job stores the scrape and ends without them.
    """
    minimum = job.options.get(MIN_FOLLOWERS)
    if not minimum or profile.followers_count >= int(minimum):
        return None
    return {
        "reason": "below_min_followers",
        "after": str(Step.SCRAPE),
        "followers": profile.followers_count,
        "min_followers": int(minimum),
        "detail": f"{profile.followers_count} followers, fewer than {int(minimum)}",
    }


def job_run_media(*, job_id: Any) -> AnalysisJob | None:
    """Store the avatar and every post thumbnail that has no CDN URL yet."""
    job = _step_begin(job_id, Step.MEDIA)
    if job is None:
        return None
    profile = _job_profile(job, Step.MEDIA)
    if profile is None:
        return None
    force = bool(job.options.get("force_media"))
    # A repair retries images that failed before, however many attempts they had.
    retry_failed = force or job.trigger == AnalysisJob.Trigger.REPAIR
    posts = list(profile.posts.exclude(display_url="").only("pk", "display_url", "cdn_thumbnail_url"))
    items: list[tuple[str, str]] = []
    if profile.profile_pic_url and (force or not profile.cdn_avatar_url):
        items.append((profile.profile_pic_url, "avatar"))
    wanted = [post for post in posts if force or not post.cdn_thumbnail_url]
    items.extend((post.display_url, "thumbnail") for post in wanted)

    assets = image_assets_store_many(items=items, force=retry_failed) if items else {}
    avatar = assets.get((profile.profile_pic_url, "avatar"))
    thumbnails = {}
    failures = []
    for (url, kind), asset in assets.items():
        if asset.status != "ready":
            failures.append({"kind": kind, "source_url": url[:300], "error": asset.last_error[:300]})
    for post in wanted:
        asset = assets.get((post.display_url, "thumbnail"))
        if asset is not None and asset.status == "ready":
            thumbnails[post.pk] = asset.public_url
    profile_services.profile_media_urls_save(
        profile=profile,
        avatar_url=avatar.public_url if avatar is not None and avatar.status == "ready" else None,
        thumbnails=thumbnails,
    )
    with transaction.atomic():
        job = AnalysisJob.objects.select_for_update().get(pk=job.pk)
        message = f"stored {len(items) - len(failures)} of {len(items)} images"
        _step_end(job, Step.MEDIA, message, requested=len(items), failed=failures)
    return job


# --- The AI step: one engine batch over this job and the other jobs waiting for AI ----------
_AI_CLAIM = "ai_batch"  # job.result key: {"leader": <job id>} while a batch owns the job


@dataclass
class _AiJob:
    job: AnalysisJob
    profile: Profile
    posts: list[Post]


def _ready_for_ai() -> Q:
    """Active jobs whose step before AI has finished and whose AI step has not started."""
    ai = str(Step.AI)
    return Q(ai_started_at__isnull=True) & (
        Q(status=Status.QUEUED, steps__0=ai)
        | Q(status=Status.SCRAPING, scrape_finished_at__isnull=False, steps__1=ai)
        | (Q(status=Status.STORING_MEDIA, media_finished_at__isnull=False) & (Q(steps__1=ai) | Q(steps__2=ai)))
    )


def _ai_posts(job: AnalysisJob, profile: Profile) -> list[Post]:
    posts = profile.posts.order_by("pk")
    if not job.options.get("force_ai"):
        posts = posts.filter(ai_analyzed_at__isnull=True)
    return list(posts)


def _ai_claim(job_id: Any) -> list[_AiJob]:
    """Move ``job_id`` into its AI step and claim other jobs ready for theirs, in one transaction.

    The other jobs are locked with SKIP LOCKED, so two AI workers never claim the same job and
    never wait for each other; each claimed job gets its own "ai started" event and timing and
    records the batch's leader in ``result["ai_batch"]``. Empty when the job's AI step must not
    run: finished, failed, or owned by another job's batch (which finishes it). A job whose own
    earlier delivery died mid-batch takes back the jobs it had claimed.
    """
    with transaction.atomic():
        leader = _step_begin(job_id, Step.AI)
        if leader is None:
            return []
        owner = (leader.result.get(_AI_CLAIM) or {}).get("leader")
        if owner not in (None, str(leader.pk)):
            return []
        profile = _job_profile(leader, Step.AI)
        if profile is None:
            return []
        batch = [_AiJob(leader, profile, _ai_posts(leader, profile))]
        max_jobs, max_posts = settings.AI_BATCH_MAX_JOBS, settings.AI_BATCH_MAX_POSTS
        # Without row locks (SQLite) a claim could race another worker's: each job runs alone.
        if max_jobs > 1 and connection.features.has_select_for_update_skip_locked:
            total = len(batch[0].posts)
            mine = Q(status=Status.ANALYSING, **{f"result__{_AI_CLAIM}__leader": str(leader.pk)})
            candidates = (
                AnalysisJob.objects.select_for_update(skip_locked=True)
                .filter(_ready_for_ai() | mine)
                .exclude(pk=leader.pk)
                .order_by("created_at")[: max_jobs - 1]
            )
            for candidate in candidates:
                profile = candidate.profile or Profile.objects.filter(username=candidate.username).first()
                if profile is None:
                    continue  # its own task fails it with the reason
                posts = _ai_posts(candidate, profile)
                if total + len(posts) > max_posts:
                    continue
                job = _step_begin(candidate.pk, Step.AI)  # already locked by this transaction
                if job is not None:
                    total += len(posts)
                    batch.append(_AiJob(job, profile, posts))
        for item in batch:
            item.job.result = {**item.job.result, _AI_CLAIM: {"leader": str(leader.pk)}}
            item.job.save(update_fields=["result", "updated_at"])
    return batch


def job_run_ai(*, job_id: Any) -> AnalysisJob | None:
    """Analyse the posts of this job, and of other jobs waiting for AI, in one engine batch.

    Claims up to ``AI_BATCH_MAX_JOBS`` jobs (this one first) with at most
    ``AI_BATCH_MAX_POSTS`` posts between them (``_ai_claim``), runs the engine once over all
    their posts without AI results (all posts when forced), then saves each job's results,
    aggregates its profile and ends its step on its own: one job that cannot be saved fails
    alone. If the engine itself fails, every claimed job fails with the error. Returns the job,
    or None when there was nothing to do (its step done, or another job's batch owns it).
    """
    engine = get_engine()  # before claiming: a worker still loading its models holds no job
    embedder = get_embedder(engine)
    batch = _ai_claim(job_id)
    if not batch:
        return None
    posts = [post for item in batch for post in item.posts]
    try:
        results = posts_analyse(posts=posts, engine=engine)
        vectors = embeddings_compute(profiles=[item.profile for item in batch], embedder=embedder) if embedder else {}
    except Exception as exc:
        for item in batch:
            job_fail(
                job_id=item.job.pk,
                stage=Step.AI,
                category=ErrorCategory.INTERNAL,
                detail=f"{type(exc).__name__}: {exc}",
            )
        raise
    info = {"leader": str(batch[0].job.pk), "jobs": len(batch), "posts": len(posts)}
    for item in batch:
        try:
            _ai_job_save(
                item, results=results, engine_version=engine.version, batch=info, vectors=vectors.get(item.profile.pk)
            )
        except Exception as exc:  # one job's save must not take the batch's other jobs with it
            logger.exception("saving the AI results of job %s failed", item.job.pk)
            job_fail(
                job_id=item.job.pk,
                stage=Step.AI,
                category=ErrorCategory.INTERNAL,
                detail=f"{type(exc).__name__}: {exc}",
            )
    return AnalysisJob.objects.filter(pk=batch[0].job.pk).first()


def _ai_job_save(
    item: _AiJob,
    *,
    results: dict[str, dict[str, Any]],
    engine_version: str,
    batch: dict,
    vectors: ProfileVectors | None = None,
) -> None:
    """Save one job's post results, profile aggregates and embeddings, and end its AI step (all or nothing)."""
    with transaction.atomic():
        job = AnalysisJob.objects.select_for_update().get(pk=item.job.pk)
        if job.status != Status.ANALYSING:
            return  # failed meanwhile (e.g. as stale): leave it as it is
        profile_services.posts_ai_results_save(results={str(post.pk): results[str(post.pk)] for post in item.posts})
        profile_aggregate(profile=item.profile, engine_version=engine_version)
        embedded = embeddings_save(vectors=vectors) if vectors is not None else None
        analysed = len(item.posts)
        _step_end(
            job,
            Step.AI,
            f"analysed {analysed} posts",
            analysed=analysed,
            engine=engine_version,
            batch=batch,
            embedding=embedded,
        )


def posts_analyse(*, posts: list[Post], engine: Engine) -> dict[str, dict[str, Any]]:
    """Run ``engine`` over ``posts`` (one call per ``AI_BATCH_MAX_POSTS`` posts); results by post pk."""
    size = max(1, settings.AI_BATCH_MAX_POSTS)
    results: dict[str, dict[str, Any]] = {}
    for start in range(0, len(posts), size):
        inputs = [
            PostInput(
                key=str(post.pk), caption=post.caption, hashtags=tuple(post.hashtags), mentions=tuple(post.mentions)
            )
            for post in posts[start : start + size]
        ]
        results.update((result.key, result.to_dict()) for result in engine.analyse(inputs))
    return results


def profile_aggregate(*, profile: Profile, engine_version: str) -> None:
    """Aggregate the analysed posts of ``profile`` into its AI fields."""
    posts = list(profile.posts.filter(ai_analyzed_at__isnull=False))
    aggregate = aggregate_profile(
        [PostAnalysis.from_post(post) for post in posts], categories=len(settings.AI_CATEGORIES)
    )
    profile_services.profile_ai_aggregate_save(profile=profile, aggregate=aggregate, engine_version=engine_version)


# --- Embeddings (analysis.embeddings' recipe), computed in the AI stage ---------------------


@dataclass
class ProfileVectors:
    """What ``embeddings_save`` writes for one profile (computed outside any transaction)."""

    profile: Profile
    version: str
    posts: list[tuple[Any, np.ndarray, str]]  # (post pk, vector, source hash) to upsert
    vector: np.ndarray | None  # None: unchanged (same fingerprint) or nothing to embed
    fingerprint: str
    posts_used: int


def _post_hash(text: str, version: str) -> str:
    return recipe.recipe_fingerprint(bio_text="", captions=[text], version=version)


def embeddings_compute(*, profiles: list[Profile], embedder: Any, force: bool = False) -> dict[Any, ProfileVectors]:
    """Post and profile embeddings of ``profiles`` with one ``embedder.embed`` call (by profile pk).

    Post vectors whose caption and version are unchanged are reused, as is a profile vector
    whose inputs (``recipe_fingerprint``) are unchanged, unless ``force``.
    """
    version = recipe.embedding_version()
    plans = []
    texts: dict[str, None] = {}
    for profile in profiles:
        posts = list(
            profile.posts.order_by(F("posted_at").desc(nulls_last=True), "instagram_post_id").only(
                "pk", "caption", "posted_at", "instagram_post_id"
            )
        )
        captions = {post.pk: recipe.clean_text(post.caption) for post in posts}
        stored = {row.post_id: row for row in PostEmbedding.objects.filter(post_id__in=list(captions), version=version)}
        todo = [
            pk
            for pk, text in captions.items()
            if text and (force or pk not in stored or stored[pk].source_hash != _post_hash(text, version))
        ]
        recipe_posts = [pk for pk in captions if captions[pk]][: recipe.PROFILE_RECIPE_POSTS]
        bio = recipe.profile_bio_text(biography=profile.biography, category=profile.category)
        fingerprint = recipe.recipe_fingerprint(
            bio_text=bio, captions=[captions[pk] for pk in recipe_posts], version=version
        )
        current = ProfileEmbedding.objects.filter(profile=profile, version=version).only("source_hash").first()
        unchanged = current is not None and current.source_hash == fingerprint and not force
        texts.update(dict.fromkeys(captions[pk] for pk in todo))
        if bio and not unchanged:
            texts[bio] = None
        plans.append((profile, captions, stored, todo, recipe_posts, bio, fingerprint, unchanged))
    ordered = list(texts)
    computed = dict(zip(ordered, embedder.embed(ordered), strict=True)) if ordered else {}

    out: dict[Any, ProfileVectors] = {}
    for profile, captions, stored, todo, recipe_posts, bio, fingerprint, unchanged in plans:
        fresh = {pk: computed[captions[pk]] for pk in todo}
        vector = None
        if not unchanged:
            parts = [fresh[pk] if pk in fresh else stored[pk].vector for pk in recipe_posts]
            vector = recipe.combine_profile_vector(bio=computed[bio] if bio else None, captions=parts)
        out[profile.pk] = ProfileVectors(
            profile=profile,
            version=version,
            posts=[(pk, fresh[pk], _post_hash(captions[pk], version)) for pk in todo],
            vector=vector,
            fingerprint=fingerprint,
            posts_used=len(recipe_posts),
        )
    return out


def embeddings_save(*, vectors: ProfileVectors) -> dict[str, Any]:
    """Upsert the post and profile embeddings of one ``embeddings_compute`` entry."""
    for post_id, vector, source_hash in vectors.posts:
        PostEmbedding.objects.update_or_create(
            post_id=post_id, defaults={"vector": vector, "version": vectors.version, "source_hash": source_hash}
        )
    if vectors.vector is not None:
        ProfileEmbedding.objects.update_or_create(
            profile_id=vectors.profile.pk,
            defaults={
                "vector": vectors.vector,
                "version": vectors.version,
                "source_hash": vectors.fingerprint,
                "posts_used": vectors.posts_used,
            },
        )
    return {"version": vectors.version, "posts": len(vectors.posts), "profile": vectors.vector is not None}


def profiles_needing_embedding(*, force: bool = False) -> Any:
    """Profiles with analysed posts whose embedding is missing or of another version (all with ``force``)."""
    analysed = Profile.objects.filter(ai_profile_analyzed_at__isnull=False)
    if force:
        return analysed.order_by("pk")
    current = ProfileEmbedding.objects.filter(version=recipe.embedding_version()).values("profile_id")
    return analysed.exclude(pk__in=current).order_by("pk")


def embeddings_backfill(
    *, embedder: Any, force: bool = False, chunk: int = 16, progress: Any = None, limit: int | None = None
) -> int:
    """Embed every profile ``profiles_needing_embedding`` lists, ``chunk`` profiles per model call.

    ``progress(n)`` is called after each chunk with the number of profiles done in it.
    Returns the number of profiles processed.
    """
    pks = list(profiles_needing_embedding(force=force).values_list("pk", flat=True)[:limit])
    for start in range(0, len(pks), chunk):
        profiles = list(Profile.objects.filter(pk__in=pks[start : start + chunk]))
        computed = embeddings_compute(profiles=profiles, embedder=embedder, force=force)
        with transaction.atomic():
            for vectors in computed.values():
                embeddings_save(vectors=vectors)
        if progress is not None:
            progress(len(profiles))
    return len(pks)


def _job_profile(job: AnalysisJob, step: str) -> Profile | None:
    profile = job.profile or Profile.objects.filter(username=job.username).first()
    if profile is None:
        job_fail(
            job_id=job.pk,
            stage=step,
            category=ErrorCategory.MISSING_PROFILE,
            detail="The profile has not been scraped.",
        )
    return profile


def job_finish(*, job_id: Any) -> AnalysisJob | None:
    """End the job: ``completed`` when the profile is COMPLETE, ``partial`` otherwise."""
    with transaction.atomic():
        job = AnalysisJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in AnalysisJob.TERMINAL_STATUSES:
            return job
        profile = job.profile or Profile.objects.filter(username=job.username).first()
        completeness = profile_completeness(profile=profile) if profile else None
        job.profile = profile
        job.status = Status.COMPLETED if completeness and completeness.is_complete else Status.PARTIAL
        job.progress = 100
        job.finished_at = timezone.now()
        job.result = {**job.result, "completeness": completeness.to_dict() if completeness else None}
        job.save()
        missing = ", ".join(completeness.missing) if completeness and completeness.missing else ""
        stopped = job.result.get(STOPPED)
        if job.status == Status.COMPLETED:
            _event(job, "completed")
        elif stopped:
            _event(job, f"stopped after {stopped['after']}: {stopped['detail']}", **stopped)
        else:
            _event(job, f"partial: missing {missing}")
        if profile is not None:
            transaction.on_commit(lambda: profile_services.profile_pipeline_finished(profile=profile))
    return job


def username_lock(username: str) -> None:
    """Hold a transaction-level lock on ``username`` (PostgreSQL advisory lock; SQLite runs
    one writer at a time anyway) until the current transaction ends.

    An unlock takes it before deciding between "remembered as missing", "join the running job"
    and "start a job"; a job failing as missing or private takes it before it fails. So a job
    cannot fail between an unlock's check and its commit: concurrent unlocks of one username
    make one job, and one that comes after the failure is refused.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"analysis-username:{username}"])


def job_fail(*, job_id: Any, stage: str, category: ErrorCategory, detail: str) -> AnalysisJob | None:
    """End a job ``failed`` with the stage that failed and why (idempotent).

    A charge happens only when the action succeeded (PRODUCT.md): whatever the failure, the
    unlocks paid for the creator during the job are refunded and their access ends
    (``profiles.services.unlocks_refund``, queued once the failure is committed), unless an
    earlier complete analysis is still served. The account missing or private
    (``AnalysisJob.NOTHING_TO_DELIVER``) is also remembered, so that unlocking it again is refused
    for a while; after any other failure an unlock starts a new job, charged anew.
    """
    category = ErrorCategory(category)
    with transaction.atomic():
        username = AnalysisJob.objects.filter(pk=job_id).values_list("username", flat=True).first()
        if username is not None:
            username_lock(username)  # not while an unlock is deciding (analysis.unlocks)
        job = AnalysisJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in AnalysisJob.TERMINAL_STATUSES:
            return job
        job.status = Status.FAILED
        job.error_stage = str(stage)
        job.error_category = category
        job.error_detail = detail[:2000]
        job.finished_at = timezone.now()
        job.save()
        _event(job, f"failed in {stage}: {category}", category=category, detail=public_detail(detail)[:300])
        refund = {
            "username": job.username,
            "since": job.created_at.isoformat(),
            "reason": f"@{job.username} could not be analysed ({category}).",
        }
        task_send_on_commit("profiles.tasks.unlocks_refund_task", **refund)
    logger.warning("analysis job %s for @%s failed in %s: %s %s", job.pk, job.username, stage, category, detail)
    return job


def jobs_fail_stale(*, older_than: datetime | None = None) -> int:
    """Fail active jobs that have not moved for too long (a worker died mid-step)."""
    cutoff = older_than or timezone.now() - settings.PIPELINE_STALE_AFTER
    stale = AnalysisJob.objects.filter(status__in=AnalysisJob.ACTIVE_STATUSES, updated_at__lt=cutoff)
    count = 0
    for job_id, status in stale.values_list("pk", "status"):
        job_fail(
            job_id=job_id, stage=status, category=ErrorCategory.TIMEOUT, detail="No progress within the time limit."
        )
        count += 1
    return count


def profile_repair(*, profile: Profile, requested_by: Any = None, dry_run: bool = False) -> AnalysisJob | None:
    """Queue only the steps that would make ``profile`` complete; None if nothing is missing."""
    completeness = profile_completeness(profile=profile)
    if completeness.is_complete or dry_run:
        return None
    job, _ = job_start(
        username=profile.username,
        requested_by=requested_by,
        trigger=AnalysisJob.Trigger.REPAIR,
        steps=repair_steps(completeness=completeness),
    )
    return job


def profile_reanalyse(*, profile: Profile, requested_by: Any = None) -> AnalysisJob:
    """Recompute the AI results of every post and the profile aggregates."""
    job, _ = job_start(
        username=profile.username,
        requested_by=requested_by,
        trigger=AnalysisJob.Trigger.STAFF,
        steps=[Step.AI],
        options={"force_ai": True},
    )
    return job
