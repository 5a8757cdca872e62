"""Writes of the profiles app, by concern.

- ``creators``: scrape and upsert creators with their posts, related profiles and snapshots;
  the pipeline's writes (media URLs, AI results, aggregates);
- ``access``: a team's 30-day unlocks granted and revoked;
- ``unlocks``: refunds of unlocks that delivered nothing;
- ``contact_emails``: a team's contact email reveals;
- ``exports``: exports requested and built;
- ``reports``: the cached report dropped; ``search_fields``: search fields stored.

The creators' writes are re-exported here: ``from profiles import services`` then
``services.profile_scrape(...)``.
"""

from profiles.providers.recording import provider_call_record
from profiles.services.contact_emails import contact_email_reveal, contact_email_revealed
from profiles.services.creators import (
    ImportSummary,
    UpsertResult,
    posts_ai_results_save,
    profile_ai_aggregate_save,
    profile_get_or_create,
    profile_media_urls_save,
    profile_pipeline_finished,
    profile_scrape,
    profile_upsert_from_scrape,
    profiles_import,
)
from profiles.services.unlocks import unlock_reference, unlocks_refund
from profiles.usernames import username_clean

__all__ = [
    "ImportSummary",
    "UpsertResult",
    "contact_email_reveal",
    "contact_email_revealed",
    "posts_ai_results_save",
    "profile_ai_aggregate_save",
    "profile_get_or_create",
    "profile_media_urls_save",
    "profile_pipeline_finished",
    "profile_scrape",
    "profile_upsert_from_scrape",
    "profiles_import",
    "provider_call_record",
    "unlock_reference",
    "unlocks_refund",
    "username_clean",
]
