"""The related-creator queue: each related profile a scrape finds becomes a candidate to analyse.

``DiscoveryCandidate`` is one username (unique) waiting for, running or done with its
discovery job; ``DiscoveryAttempt`` is one start of a job for it (the limits count these);
``DiscoveryQueueState`` is a single row: the intake watermark and the lock every queue
writer takes, so that the limits hold with several workers. The services are in
``discovery.services.queue``.
"""

from django.db import models
from django.db.models import Q

from config.models import TimeStampedModel
from profiles.models import username_validator


class DiscoveryCandidate(TimeStampedModel):
    """A creator found as a related profile, to be analysed by a ``discovery`` job.

    Status transitions (guarded in ``discovery.services.queue``, under the queue lock):

        queued  -> running   a drain started its job within the limits, or staff "discover now"
        queued  -> skipped   already complete, private, known to be under the follower
                             minimum, or staff "skip"
        running -> done      the job ended completed or partial
        running -> skipped   the job stopped after its scrape: under the follower minimum
        running -> queued    the attempt failed transiently (attempts < DISCOVERY_MAX_ATTEMPTS);
                             ``next_attempt_at`` backs off exponentially
        running -> failed    not found, private, or the last attempt failed
        failed | skipped | done -> running   staff "discover now"
        failed  -> skipped   staff "skip"

    ``reason`` says why a candidate is skipped, failed or waiting to retry (blank while it is
    simply queued or done complete); ``detail`` is the human-readable why.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        SKIPPED = "skipped", "Skipped"
        FAILED = "failed", "Failed"

    class Reason(models.TextChoices):
        COMPLETE = "complete", "Already complete"
        BELOW_MIN_FOLLOWERS = "below_min_followers", "Under the follower minimum"
        PRIVATE = "private", "Private account"
        NOT_FOUND = "not_found", "Account not found"
        PARTIAL = "partial", "Analysed, still incomplete"
        RETRY = "retry", "Failed, will retry"
        ATTEMPTS_EXHAUSTED = "attempts_exhausted", "Failed every attempt"
        STAFF = "staff", "Skipped by staff"

    username = models.CharField(max_length=30, unique=True, validators=[username_validator])
    found_via = models.ForeignKey(
        "profiles.Profile",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="discovered_candidates",
        help_text="The profile whose scrape listed this one as related (the first one).",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    reason = models.CharField(max_length=32, choices=Reason.choices, blank=True)
    detail = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Jobs started for this candidate.")
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="A queued candidate starts no earlier (retry backoff)."
    )
    started_at = models.DateTimeField(null=True, blank=True, help_text="Start of the latest attempt.")
    finished_at = models.DateTimeField(null=True, blank=True)
    job = models.ForeignKey(
        "analysis.AnalysisJob",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="discovery_candidates",
        help_text="The latest attempt's analysis job.",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "done", "skipped", "failed"]),
                name="discovery_candidate_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="running") | Q(started_at__isnull=False),
                name="discovery_candidate_running_started",
            ),
        ]
        indexes = [
            # The drain: queued candidates in order, due now.
            models.Index(
                fields=["id", "next_attempt_at"], name="discovery_cand_queued_idx", condition=Q(status="queued")
            ),
            models.Index(fields=["status", "reason"], name="discovery_cand_status_idx"),
            models.Index(fields=["finished_at"], name="discovery_cand_finished_idx"),
        ]

    def __str__(self) -> str:
        return f"@{self.username} ({self.status})"


class DiscoveryAttempt(models.Model):
    """One start of an analysis job for a candidate; the hourly and daily limits count these."""

    candidate = models.ForeignKey(DiscoveryCandidate, on_delete=models.CASCADE, related_name="attempt_log")
    job = models.ForeignKey("analysis.AnalysisJob", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, blank=True, help_text="The candidate's status after it.")
    forced = models.BooleanField(default=False, help_text="Started by staff ('discover now'), outside the limits.")

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.candidate_id} @ {self.started_at:%Y-%m-%d %H:%M}"


class DiscoveryQueueState(models.Model):
    """The queue's one row: the intake watermark; its row lock serialises every queue writer."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    related_watermark = models.DateTimeField(
        null=True, blank=True, help_text="created_at of the newest related profile taken in."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="discovery_queue_state_singleton")]

    def __str__(self) -> str:
        return "discovery queue"
