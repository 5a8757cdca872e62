"""The cached report's fast path: ``GET /search/creator/{username}`` answered from the cache alone.

The API's hottest read is an unlocked, complete creator whose report is cached.
``cached_report_response`` answers it with no DRF request, no user row and no ORM: the JWT
checked from the token plus the cached auth record, the user's cached membership record for
the active team (``X-Team-ID`` or the default), the API's throttles through their public
window-counter API (``config.api.throttling``), the team's cached access and the report's
pre-rendered JSON, all read in one cache round trip. Whatever it cannot answer from the cache
(no token or a bad one, a suspended user or a changed password, a removed member, throttled,
unknown, incomplete or locked creator, anything missing from the cache or Redis down) it
declines (None), and the DRF view answers as before, errors and all. The body is byte for
byte the DRF view's.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers

from accounts import auth_cache
from config.api.throttling import user_window_keys, window_count, window_peek
from config.errors import ValidationFailed
from profiles.selectors import Actor, access_key, access_payload
from profiles.selectors import report as reports
from profiles.usernames import username_clean
from teams import selectors as team_selectors

_FAST_ACCEPT = frozenset({"", "*/*", "application/json"})
_ALLOW = "GET, HEAD, OPTIONS"
_profile_ids: dict[str, str] = {}  # username -> profile id seen in the cached lookup (a hint)
_team_ids: dict[str, str] = {}  # user id -> the default team seen in their membership record (a hint)
_PROFILE_IDS_MAX = 10_000


def cached_report_response(request: Any, username: str, *, throttle_classes: list[type]) -> HttpResponse | None:
    """The cached report for an unlocked, complete creator, or None for the DRF view to answer."""
    meta = request.META
    if request.method != "GET" or meta.get("QUERY_STRING") or meta.get("HTTP_ACCEPT", "") not in _FAST_ACCEPT:
        return None
    token = auth_cache.jwt_token(request)
    user_id = token and auth_cache.token_user_id(token)
    if not user_id:
        return None
    try:
        username = username_clean(username)
    except ValidationFailed:
        return None
    throttles = user_window_keys(throttle_classes, user_id=user_id, cache=cache)
    if throttles is None:
        return None
    # One read for everything: the access and report keys need the profile's and the team's
    # ids, which this process remembers from earlier requests (hints only: checked below).
    requested_team = meta.get("HTTP_X_TEAM_ID") or None
    lookup_key, auth_key = reports.lookup_key(username), auth_cache.auth_record_key(user_id)
    teams_key = team_selectors.memberships_key(user_id)
    keys = [lookup_key, auth_key, teams_key, *(key for _, key in throttles)]
    hint, team_hint = _profile_ids.get(username), requested_team or _team_ids.get(user_id)
    if hint is not None and team_hint is not None:
        keys += [access_key(team_hint, hint), reports.report_key(hint)]
    cached = cache.get_many(keys)
    found = cached.get(lookup_key)
    if not (found and found["known"] and found["complete"]):
        return None
    record = cached[auth_key] if auth_key in cached else auth_cache.auth_record_load(user_id)
    if not auth_cache.token_accepted(token, record) or window_peek(throttles, cached):
        return None  # the DRF view refuses it (401, 429) in the API's error format
    # The active team from the user's cached membership record: a removed member is refused
    # on the very next request (the record is dropped when a membership changes).
    team_id = team_selectors.active_team_id(
        team_selectors.memberships_record(user_id, cached.get(teams_key)), requested_team
    )
    if team_id is None:
        return None  # not a member of the named team: the DRF view answers 404
    profile_id = found["id"]
    key, report_key = access_key(team_id, profile_id), reports.report_key(profile_id)
    if hint != profile_id or team_hint != team_id:
        for hints, name, value in ((_profile_ids, username, profile_id), (_team_ids, user_id, team_id)):
            if len(hints) >= _PROFILE_IDS_MAX:
                hints.clear()
            hints[name] = value
        cached = cache.get_many([key, report_key])
    report = cached.get(report_key)
    if report is None:
        return None
    actor = Actor(user_id=user_id, team_id=team_id, is_staff=bool(record["staff"]))
    access = access_payload(actor=actor, profile_id=profile_id, cached=cached.get(key))
    if access is None:
        return None  # locked: the preview and its price
    window_count(throttles)
    # The DRF view's body: its dict rendered by the same renderer, the report spliced in last.
    head = reports.render_json({"username": username, "locked": False, "access": access, "job": None})
    body = b"".join((head[:-1], b',"report":', report, b"}"))
    response = HttpResponse(body, content_type="application/json")
    response["Allow"] = _ALLOW
    patch_vary_headers(response, ("Accept", "X-Team-ID"))
    return response
