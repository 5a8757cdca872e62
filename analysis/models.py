"""Analysis jobs: one row per run of the scrape -> CDN -> AI pipeline for a creator."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from analysis.embeddings import EMBEDDING_DIMENSIONS
from analysis.vectors import EmbeddingField
from config.models import UUIDModel


class AnalysisJob(UUIDModel):
    """A pipeline run for one username.

    Status transitions (guarded in ``analysis.services``):

        queued -> scraping -> storing_media -> analysing -> completed | partial
        any non-terminal status -> failed

    A repair job runs only the steps in ``steps`` and skips the others. ``completed`` means
    the profile is COMPLETE at the end; ``partial`` means the job ran but something is still
    missing (e.g. images whose host was down); ``failed`` means a step could not run at all.
    Only one active (non-terminal) job may exist per username: the database enforces it.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SCRAPING = "scraping", "Scraping"
        STORING_MEDIA = "storing_media", "Storing media"
        ANALYSING = "analysing", "Analysing"
        COMPLETED = "completed", "Completed"
        PARTIAL = "partial", "Partial"
        FAILED = "failed", "Failed"

    class Step(models.TextChoices):
        SCRAPE = "scrape", "Scrape"
        MEDIA = "media", "Store media"
        AI = "ai", "AI analysis"

    class Trigger(models.TextChoices):
        USER = "user", "User request"
        STAFF = "staff", "Staff"
        REPAIR = "repair", "Repair"
        DISCOVERY = "discovery", "Discovery"
        COMMAND = "command", "Command line"

    class ErrorCategory(models.TextChoices):
        """Why a job failed. The provider's categories (``ProviderError.category``) keep their names."""

        NOT_FOUND = "not_found", "Account not found"
        PRIVATE = "private", "Account is private"
        RATE_LIMITED = "rate_limited", "Provider rate limit"
        TRANSIENT = "transient", "Provider temporarily failing"
        UNAVAILABLE = "unavailable", "Provider unavailable (circuit open)"
        PROVIDER_ERROR = "provider_error", "Provider error"
        MISSING_PROFILE = "missing_profile", "Profile not scraped"
        TIMEOUT = "timeout", "No progress (stale)"
        INTERNAL = "internal", "Internal error"

        @classmethod
        def from_provider(cls, category: str) -> "AnalysisJob.ErrorCategory":
            """The job category for a provider's error category (unknown ones: provider_error)."""
            return cls(category) if category in cls.values else cls.PROVIDER_ERROR

    # Failures after which nothing was delivered: the unlocks paid for the job are refunded.
    NOTHING_TO_DELIVER = (ErrorCategory.NOT_FOUND, ErrorCategory.PRIVATE)

    ACTIVE_STATUSES = (Status.QUEUED, Status.SCRAPING, Status.STORING_MEDIA, Status.ANALYSING)
    TERMINAL_STATUSES = (Status.COMPLETED, Status.PARTIAL, Status.FAILED)
    ALL_STEPS = (Step.SCRAPE, Step.MEDIA, Step.AI)

    username = models.CharField(max_length=30, db_index=True)
    profile = models.ForeignKey(
        "profiles.Profile", on_delete=models.CASCADE, null=True, blank=True, related_name="analysis_jobs"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="analysis_jobs"
    )
    # The account the job was started for (unlocks); None for staff, repair and discovery jobs.
    team = models.ForeignKey(
        "teams.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="analysis_jobs"
    )
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.USER)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    steps = models.JSONField(default=list, help_text="Steps this job runs, in order: scrape, media, ai.")
    options = models.JSONField(default=dict, blank=True, help_text='e.g. {"force_ai": true} to recompute.')
    progress = models.PositiveSmallIntegerField(default=0)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Scrape attempts (transient errors retried).")

    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    scrape_started_at = models.DateTimeField(null=True, blank=True)
    scrape_finished_at = models.DateTimeField(null=True, blank=True)
    media_started_at = models.DateTimeField(null=True, blank=True)
    media_finished_at = models.DateTimeField(null=True, blank=True)
    ai_started_at = models.DateTimeField(null=True, blank=True)
    ai_finished_at = models.DateTimeField(null=True, blank=True)

    error_stage = models.CharField(max_length=16, blank=True)
    error_category = models.CharField(max_length=32, choices=ErrorCategory.choices, blank=True)
    error_detail = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True, help_text="Counts, completeness and failures at the end.")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["username"],
                condition=Q(status__in=["queued", "scraping", "storing_media", "analysing"]),
                name="analysis_job_one_active_per_username",
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="analysis_job_progress_range"),
        ]
        indexes = [models.Index(fields=["requested_by", "-created_at"], name="analysis_job_requester_idx")]

    def __str__(self) -> str:
        return f"job {self.pk} @{self.username} {self.status}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES

    @property
    def stage(self) -> str:
        """The step the job is in (or ended in): scrape, media, ai or done."""
        return {
            self.Status.QUEUED: "queued",
            self.Status.SCRAPING: self.Step.SCRAPE,
            self.Status.STORING_MEDIA: self.Step.MEDIA,
            self.Status.ANALYSING: self.Step.AI,
        }.get(self.status, self.error_stage or "done")


class AnalysisJobEvent(models.Model):
    """A progress event of a job, in order; the server-sent-events stream replays them."""

    job = models.ForeignKey(AnalysisJob, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(max_length=16, choices=AnalysisJob.Status.choices)
    progress = models.PositiveSmallIntegerField(default=0)
    message = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["job", "id"]

    def __str__(self) -> str:
        return f"{self.job_id} {self.status} {self.progress}%"


class ProfileEmbedding(models.Model):
    """A creator's embedding (``analysis.embeddings`` recipe), for lookalike search.

    ``vector`` is a pgvector ``vector(384)`` with an HNSW cosine index where the database has
    pgvector, else ``bytea`` of float32 (PostgreSQL) or JSON (SQLite) ranked exactly with numpy
    (``analysis.vectors``; ``analysis.selectors.profile_lookalikes`` hides which). Only rows of
    the current ``embedding_version()`` are searched.
    """

    profile = models.OneToOneField(
        "profiles.Profile", on_delete=models.CASCADE, primary_key=True, related_name="embedding"
    )
    vector = EmbeddingField(dimensions=EMBEDDING_DIMENSIONS)
    version = models.CharField(max_length=200, db_index=True, help_text="emb:<model>:r<recipe version>")
    source_hash = models.CharField(max_length=64, help_text="sha256 of the recipe's inputs and version.")
    posts_used = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"embedding of {self.profile_id} ({self.version})"


class PostEmbedding(models.Model):
    """A post caption's embedding (normalised), the caption part of its profile's recipe."""

    post = models.OneToOneField("profiles.Post", on_delete=models.CASCADE, primary_key=True, related_name="embedding")
    vector = EmbeddingField(dimensions=EMBEDDING_DIMENSIONS)
    version = models.CharField(max_length=200, db_index=True)
    source_hash = models.CharField(max_length=64, help_text="sha256 of the caption and version.")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"embedding of post {self.post_id} ({self.version})"
