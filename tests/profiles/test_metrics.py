"""Report formulas (profiles.metrics) against values computed by hand in the comments."""

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from profiles.metrics import (
    PostStats,
    ProfileStats,
    SnapshotPoint,
    audience_quality_estimate,
    best_posting_times,
    brand_mentions,
    detect_sponsorship,
    engagement_rate,
    engagement_stats,
    follower_series,
    following_followers_ratio,
    growth_report,
    latest_posts,
    looks_like_brand,
    post_engagement_rate,
    post_sponsorship,
    post_view_rate,
    posting_consistency,
    posting_frequency,
    sponsored_vs_organic,
    top_hashtags,
    top_mentions,
    video_view_rate,
    viral_posts,
)
from profiles.metrics.sponsorship import INSTAGRAM_LABEL

HONY = Path(__file__).resolve().parents[1] / "fixtures" / "apify" / "humansofny-details.json"
T0 = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)  # a Monday


def post(likes, comments=0, *, days=None, **kwargs):
    """A post ``days`` after T0 (undated when days is None)."""
    posted_at = None if days is None else T0 + timedelta(days=days)
    return PostStats(likes=likes, comments=comments, posted_at=posted_at, **kwargs)


# --- engagement rate -------------------------------------------------------------------


def test_engagement_rate_is_the_median_of_per_post_rates():
    # followers 1000; (likes + comments) = 10, 25, 50 -> 1.0 %, 2.5 %, 5.0 % -> median 2.5
    posts = [post(10, days=1), post(20, 5, days=2), post(40, 10, days=3)]
    assert engagement_rate(posts, 1000) == 2.5


def test_engagement_rate_with_an_even_count_averages_the_two_middle_rates():
    # 10/1000 = 1 %, 30/1000 = 3 % -> (1 + 3) / 2 = 2.0
    assert engagement_rate([post(10, days=1), post(30, days=2)], 1000) == 2.0


def test_engagement_rate_rounds_to_four_decimals():
    # 1 / 3 x 100 = 33.3333...
    assert engagement_rate([post(1)], 3) == 33.3333


def test_engagement_rate_uses_only_the_latest_twelve_posts():
    # Twelve recent posts at 100 -> 1 % each of 10,000 followers; an older post at 1,000,000
    # and two undated ones at 5,000 are outside the window. Median of 12 x 1 % = 1.0.
    recent = [post(100, days=d) for d in range(10, 22)]
    posts = [post(5000), post(1_000_000, days=0), *recent, post(5000)]
    assert engagement_rate(posts, 10_000) == 1.0
    # Without the window: 15 rates sorted = 12 x 1 %, 50 %, 50 %, 10000 % -> median (8th) = 1.0;
    # the mean of likes shows the window is applied: 100 vs (1200 + 1,010,000) / 15.
    assert engagement_stats(posts, 10_000).mean_likes == 100.0
    assert engagement_stats(posts, 10_000, limit=None).mean_likes == round(1_011_200 / 15, 2)


@pytest.mark.parametrize("followers", [0, -5])
def test_engagement_rate_is_undefined_without_followers(followers):
    assert engagement_rate([post(10)], followers) is None


def test_engagement_rate_is_undefined_without_posts():
    assert engagement_rate([], 1000) is None


def test_hidden_or_missing_likes_are_unknown_not_zero():
    # likes -1 (hidden) or None (not in the export) -> unknown: the post has no engagement
    hidden = PostStats(likes=-1, comments=5)
    missing = PostStats(likes=None, comments=None)
    assert hidden.likes is None and hidden.engagement is None and missing.engagement is None
    assert engagement_rate([hidden, missing], 100) is None
    # known posts alone make the figures: (40 + 10) / 100 = 50 %, not the median of 0, 0 and 50
    known = PostStats(likes=40, comments=10)
    assert engagement_rate([hidden, known, missing], 100) == 50.0
    stats = engagement_stats([hidden, known, missing], 100)
    assert stats.posts_considered == 3
    assert stats.mean_likes == 40 and stats.mean_comments == 7.5  # comments 5 and 10 are known
    assert stats.mean_engagement == 50 and stats.comment_to_like_ratio == 0.25
    assert post_engagement_rate(hidden, 100) is None
    assert engagement_stats([missing], 100).mean_likes is None


def test_single_post():
    single = [post(50, 10, days=0)]
    # (50 + 10) / 600 = 10 %
    assert engagement_rate(single, 600) == 10.0
    assert posting_frequency(single) is None
    assert viral_posts(single) is None


def test_humansofny_engagement_rate_matches_the_hand_computed_value():
    data = json.loads(HONY.read_text())[0]
    followers = data["followersCount"]
    posts = [
        PostStats(
            likes=p["likesCount"],
            comments=p["commentsCount"],
            posted_at=datetime.fromisoformat(p["timestamp"].replace("Z", "+00:00")),
        )
        for p in data["latestPosts"]
    ]
    assert followers == 12_765_763
    assert len(posts) == 12
    # likes + comments of the 12 posts, in file order:
    #   338084+2416=340500   96687+3332=100019   77910+3378=81288    125367+992=126359
    #   100043+1290=101333   110538+2225=112763  58698+532=59230     142802+1455=144257
    #   291338+4770=296108   52809+685=53494     217072+2164=219236  102942+846=103788
    # sorted: 53494 59230 81288 100019 101333 [103788 112763] 126359 144257 219236 296108 340500
    # median = (103788 + 112763) / 2 = 108275.5 (followers are the same for every post, so
    # the median rate is the median engagement over followers)
    # 108275.5 / 12765763 x 100 = 0.848171... -> 0.8482
    assert engagement_rate(posts, followers) == 0.8482


# --- means, medians, videos --------------------------------------------------------------


def test_engagement_stats_means_and_medians():
    # likes 100 200 300 1000, comments 10 0 20 10, followers 10,000
    posts = [post(100, 10, days=1), post(200, 0, days=2), post(300, 20, days=3), post(1000, 10, days=4)]
    stats = engagement_stats(posts, 10_000)
    assert stats.posts_considered == 4
    assert stats.mean_likes == 400.0  # 1600 / 4
    assert stats.median_likes == 250.0  # (200 + 300) / 2
    assert stats.mean_comments == 10.0  # 40 / 4
    assert stats.median_comments == 10.0  # (10 + 10) / 2
    assert stats.mean_engagement == 410.0  # (110 + 200 + 320 + 1010) / 4 = 1640 / 4
    assert stats.median_engagement == 260.0  # (200 + 320) / 2
    assert stats.comment_to_like_ratio == 0.025  # 40 / 1600
    assert stats.engagement_rate == 2.6  # rates 1.1 2.0 3.2 10.1 -> (2.0 + 3.2) / 2


def test_engagement_stats_of_nothing():
    stats = engagement_stats([], 0)
    assert stats.posts_considered == 0
    assert stats.engagement_rate is None
    assert stats.mean_likes is None and stats.median_comments is None
    assert stats.comment_to_like_ratio is None


def test_video_view_rate_is_the_median_over_videos_with_views():
    posts = [
        post(90, 10, days=1, type="video", views=1000),  # 100 / 1000 = 10 %
        post(45, 5, days=2, type="video", views=1000),  # 50 / 1000 = 5 %
        post(30, 0, days=3, type="video", views=100),  # 30 / 100 = 30 %
        post(99, 0, days=4, type="video", views=0),  # no views: ignored
        post(99, 0, days=5, type="image", views=10),  # not a video: ignored
    ]
    # median(5, 10, 30) = 10 (the mean would be 15)
    assert video_view_rate(posts) == 10.0
    assert post_view_rate(posts[0]) == 10.0
    assert post_view_rate(posts[3]) is None
    assert post_view_rate(posts[4]) is None
    assert video_view_rate([post(10, days=1)]) is None


def test_post_engagement_rate():
    assert post_engagement_rate(post(7, 1), 400) == 2.0  # 8 / 400 x 100
    assert post_engagement_rate(post(7, 1), 0) is None


# --- posting frequency and times ---------------------------------------------------------


def test_posting_frequency_is_intervals_per_week():
    # 3 posts over 14 days: (3 - 1) / 14 x 7 = 1.0 per week
    assert posting_frequency([post(1, days=0), post(1, days=7), post(1, days=14)]) == 1.0
    # 4 posts on 4 consecutive days: 3 / 3 x 7 = 7.0; the undated post is ignored
    assert posting_frequency([post(1, days=d) for d in range(4)] + [post(1)]) == 7.0
    # 3 posts over 10 days: 2 / 10 x 7 = 1.4
    assert posting_frequency([post(1, days=0), post(1, days=3), post(1, days=10)]) == 1.4


def test_posting_frequency_undefined_cases():
    assert posting_frequency([]) is None
    assert posting_frequency([post(1, days=0), post(1)]) is None  # one dated post
    assert posting_frequency([post(1, days=0), post(1, days=0)]) is None  # zero span


def test_best_posting_times_rank_by_mean_engagement_then_count():
    plus2 = timezone(timedelta(hours=2))
    posts = [
        PostStats(likes=100, comments=0, posted_at=datetime(2024, 1, 1, 10, tzinfo=UTC)),  # Mon 10h
        PostStats(likes=300, comments=0, posted_at=datetime(2024, 1, 8, 10, tzinfo=UTC)),  # Mon 10h
        PostStats(likes=150, comments=50, posted_at=datetime(2024, 1, 3, 18, tzinfo=UTC)),  # Wed 18h
        PostStats(likes=500, comments=0, posted_at=datetime(2024, 1, 5, 18, tzinfo=plus2)),  # Fri 16h UTC
        PostStats(likes=9999, comments=0),  # undated: no slot
    ]
    times = best_posting_times(posts)
    # Fri 500/1; Mon (100 + 300) / 2 = 200 over 2 posts; Wed 200/1 -> tie broken by count
    assert [(s.label, s.posts, s.mean_engagement) for s in times.weekdays] == [
        ("Friday", 1, 500.0),
        ("Monday", 2, 200.0),
        ("Wednesday", 1, 200.0),
    ]
    assert [(s.key, s.posts, s.mean_engagement) for s in times.hours] == [
        (16, 1, 500.0),
        (10, 2, 200.0),
        (18, 1, 200.0),
    ]
    assert times.hours[0].label == "16:00 UTC"


def test_best_posting_times_full_tie_orders_by_weekday():
    # Tue (2024-01-02) and Mon (2024-01-01), both 100 over 1 post -> Monday first
    times = best_posting_times([post(100, days=1), post(100, days=0)])
    assert [s.label for s in times.weekdays] == ["Monday", "Tuesday"]
    assert best_posting_times([]).weekdays == []


def test_latest_posts_order_is_stable_with_undated_last():
    a, b, c, d = post(1, days=5), post(2, days=9), post(3), post(4, days=9)
    # newest first; b and d share a date and keep their input order; undated c last
    assert latest_posts([a, b, c, d], None) == [b, d, a, c]
    assert latest_posts([a, b, c, d], 2) == [b, d]


def test_naive_datetimes_are_taken_as_utc():
    naive = PostStats(likes=1, comments=0, posted_at=datetime(2024, 1, 1, 23, 30))
    assert best_posting_times([naive]).hours[0].key == 23


# --- sponsorship -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("caption", "hashtags", "signals"),
    [
        ("New shoes", ["AD"], ["#ad"]),
        ("Loving this #Publicité", [], ["#publicite"]),
        ("Ciao #Pubblicità", [], ["#pubblicita"]),
        ("Merci #sponsorisé", [], ["#sponsorise"]),
        ("", ["werbung", "#Anzeige"], ["#werbung", "#anzeige"]),
        ("#publicidad #parceria #paidpartnership #partner #ambassador #sponsored", [], [
            "#publicidad", "#parceria", "#paidpartnership", "#partner", "#ambassador", "#sponsored"
        ]),
        ("Obrigada! #publi", [], ["#publi"]),
        ("Paid partnership with @brand", [], ["paid partnership"]),
        ("Shot in partnership with @sony", [], ["in partnership with"]),
        ("This trip was Sponsored by Visit Norway", [], ["sponsored by"]),
        ("Thanks to @hellofresh for sponsoring this video!", [], ["thanks ... for sponsoring"]),
        ("publi com a @marca", [], ["publi"]),
        ("Werbung | neue Kollektion", [], ["werbung / anzeige"]),
        ("Patrocinado por @marca", [], ["patrocinado por"]),
        ("Big #collab drop", [], ["#collab"]),
    ],
)  # fmt: skip
def test_sponsorship_signals(caption, hashtags, signals):
    result = detect_sponsorship(caption=caption, hashtags=hashtags)
    assert result.is_sponsored is True
    assert result.signals == signals


@pytest.mark.parametrize(
    "caption",
    [
        "Best #adventure of the year, bad weather though",
        "My partner and I went to the Republic of Ireland",
        "A collab with my bestie!",
        "Proud ambassador of kindness",
        "unbezahlte Werbung, alles selbst gekauft #unbezahltewerbung",
        "Great publicity for the shelter",
        "Thanks to everyone who came. I will sponsor a child",
        "",
    ],
)
def test_no_false_positives(caption):
    result = detect_sponsorship(caption=caption)
    assert result.is_sponsored is False
    assert result.signals == []


def test_instagram_label_and_text_signals_are_all_reported():
    result = post_sponsorship(PostStats(likes=1, comments=0, caption="#ad #AD sponsored by x", is_sponsored_flag=True))
    assert result.signals == [INSTAGRAM_LABEL, "#ad", "sponsored by"]  # "#ad" once


def test_sponsored_vs_organic_mean_rates():
    posts = [
        post(10, days=1, hashtags=["ad"]),  # sponsored 10 / 1000 = 1 %
        post(50, days=2),  # organic 5 %
        post(30, days=3, caption="sponsored by x"),  # sponsored 3 %
        post(70, days=4),  # organic 7 %
        post(90, days=5),  # organic 9 %
    ]
    split = sponsored_vs_organic(posts, 1000)
    assert (split.sponsored_posts, split.organic_posts) == (2, 3)
    assert split.sponsored_engagement_rate == 2.0  # (1 + 3) / 2
    assert split.organic_engagement_rate == 7.0  # (5 + 7 + 9) / 3
    assert sorted(split.sponsored_indices) == [0, 2]
    none = sponsored_vs_organic(posts[1:2], 1000)
    assert none.sponsored_engagement_rate is None and none.organic_engagement_rate == 5.0
    assert sponsored_vs_organic(posts, 0).organic_engagement_rate is None


# --- viral posts -------------------------------------------------------------------------


def test_viral_post_above_two_population_standard_deviations():
    # engagement 10 10 10 10 10 70: mean 120 / 6 = 20; squared deviations 5 x 100 + 2500 = 3000
    # population variance 3000 / 6 = 500, std = 22.3607; threshold 20 + 44.7214 = 64.7214
    posts = [post(10, days=d) for d in range(5)] + [post(70, days=5)]
    report = viral_posts(posts)
    assert report.mean_engagement == 20.0
    assert report.std_engagement == 22.36
    assert report.threshold == 64.72
    assert [(v.index, v.engagement, v.sigmas) for v in report.posts] == [(5, 70, 2.24)]  # 50 / 22.36


def test_viral_threshold_is_strict():
    # 0 0 0 0 100: mean 20, variance (4 x 400 + 6400) / 5 = 1600, std 40 -> threshold 100
    report = viral_posts([post(0, days=d) for d in range(4)] + [post(100, days=4)])
    assert report.threshold == 100.0
    assert report.posts == []


def test_viral_needs_three_posts_and_spread():
    assert viral_posts([post(1, days=0), post(100, days=1)]) is None
    flat = viral_posts([post(5, days=d) for d in range(4)])
    assert flat.std_engagement == 0.0 and flat.posts == []


# --- growth ------------------------------------------------------------------------------


def snap(day, followers, following, hour=12):
    return SnapshotPoint(captured_at=datetime(2024, 1, day, hour, tzinfo=UTC), followers=followers, following=following)


SNAPSHOTS = [snap(31, 1200, 120), snap(1, 1000, 100), snap(20, 1100, 110), snap(24, 1150, 100)]


def test_growth_from_latest_to_closest_snapshot_at_or_before_the_cutoff():
    report = growth_report(SNAPSHOTS)
    # now = latest (Jan 31 12:00); 7 days before = Jan 24 12:00 -> baseline Jan 24 (exactly at)
    g7 = report.growth_7d
    assert g7.since == datetime(2024, 1, 24, 12, tzinfo=UTC)
    assert g7.followers_change == 50  # 1200 - 1150
    assert g7.followers_change_percent == 4.3478  # 50 / 1150 x 100 = 4.347826
    assert g7.following_change == 20  # 120 - 100
    assert g7.following_change_percent == 20.0
    # 30 days before = Jan 1 12:00 -> baseline Jan 1: +200 = 20 % followers, +20 = 20 % following
    g30 = report.growth_30d
    assert (g30.followers_change, g30.followers_change_percent) == (200, 20.0)
    assert (g30.following_change, g30.following_change_percent) == (20, 20.0)
    assert report.following_followers_ratio == 0.1  # 120 / 1200
    assert [(p.date.day, p.followers, p.following) for p in report.series] == [
        (1, 1000, 100),
        (20, 1100, 110),
        (24, 1150, 100),
        (31, 1200, 120),
    ]


def test_growth_with_an_explicit_now():
    # now Feb 5: 7-day cutoff Jan 29 -> baseline Jan 24; 30-day cutoff Jan 6 -> baseline Jan 1
    report = growth_report(SNAPSHOTS, now=datetime(2024, 2, 5, 12, tzinfo=UTC))
    assert report.growth_7d.followers_change == 50
    assert report.growth_30d.followers_change == 200
    # now Jan 30: 30-day cutoff Dec 31 -> no snapshot that old
    assert growth_report(SNAPSHOTS, now=datetime(2024, 1, 30, 12, tzinfo=UTC)).growth_30d is None
    # now Feb 20: the closest snapshot before Feb 13 is the latest itself -> no growth
    assert growth_report(SNAPSHOTS, now=datetime(2024, 2, 20, tzinfo=UTC)).growth_7d is None


def test_growth_edge_cases():
    empty = growth_report([])
    assert empty.series == [] and empty.latest is None and empty.growth_7d is None
    assert empty.following_followers_ratio is None
    one = growth_report([snap(1, 10, 5)])
    assert one.growth_7d is None and one.growth_30d is None and len(one.series) == 1
    # baseline with 0 followers: change defined, percent undefined
    zero = growth_report([snap(1, 0, 0), snap(9, 40, 3)])
    assert zero.growth_7d.followers_change == 40 and zero.growth_7d.followers_change_percent is None
    assert following_followers_ratio(following=5, followers=0) is None


def test_series_keeps_the_last_snapshot_of_each_day():
    series = follower_series([snap(2, 10, 1, hour=9), snap(2, 12, 1, hour=18), snap(3, 13, 1)])
    assert [(p.date.day, p.followers) for p in series] == [(2, 12), (3, 13)]


# --- audience quality --------------------------------------------------------------------


def test_audience_quality_estimate_hand_computed():
    profile = ProfileStats(
        followers=20_000, following=1000, is_verified=True, biography="hi", external_urls=["https://x.example"]
    )
    posts = [post(400, 8, days=2 * i) for i in range(4)]  # every 2 days, engagement 408
    result = audience_quality_estimate(profile, posts)
    points = {s.name: (s.value, s.points) for s in result.signals}
    # ER 408 / 20000 x 100 = 2.04; benchmark (10k-50k) = 2.0; ratio 1.02 -> 35 x 1.02 / 1.5 = 23.8
    assert points["engagement_vs_benchmark"] == (1.02, 23.8)
    assert points["following_followers_ratio"] == (0.05, 20.0)  # 1000 / 20000 <= 0.1
    assert points["comment_to_like_ratio"] == (0.02, 15.0)  # 32 / 1600 within [0.005, 0.10]
    assert points["posting_consistency"] == (0.0, 15.0)  # equal gaps: cv 0
    assert points["verified"] == (True, 5.0)
    assert points["biography"] == (True, 5.0)
    assert points["external_link"] == (True, 5.0)
    # 23.8 + 20 + 15 + 15 + 5 + 5 + 5 = 88.8 -> 89
    assert result.score == 89
    assert sum(s.max_points for s in result.signals) == 100
    assert "no follower sample" in result.method


def test_audience_quality_partial_points():
    profile = ProfileStats(followers=1000, following=550, biography="x")
    posts = [post(100, 20, days=0), post(100, 20, days=1), post(100, 20, days=4)]
    points = {s.name: (s.value, s.points) for s in audience_quality_estimate(profile, posts).signals}
    # ER 120 / 1000 = 12 %, benchmark (<10k) 3 % -> ratio 4, capped at 1.5 -> 35
    assert points["engagement_vs_benchmark"] == (4.0, 35.0)
    # 550 / 1000 = 0.55 -> 20 x (1 - 0.45 / 0.9) = 10
    assert points["following_followers_ratio"] == (0.55, 10.0)
    # 60 / 300 = 0.2 in (0.10, 0.30] -> 7.5
    assert points["comment_to_like_ratio"] == (0.2, 7.5)
    # gaps 1 and 3 days: mean 2, population std 1 -> cv 0.5 -> 15 x (1 - 0.25) = 11.25
    assert points["posting_consistency"] == (0.5, 11.25)
    assert points["verified"] == (False, 0.0)
    assert points["external_link"] == (False, 0.0)
    # 35 + 10 + 7.5 + 11.25 + 0 + 5 + 0 = 68.75 -> 69
    assert audience_quality_estimate(profile, posts).score == 69


def test_audience_quality_of_an_empty_profile_is_zero():
    result = audience_quality_estimate(ProfileStats(followers=0, following=0), [])
    assert result.score == 0
    assert all(s.points == 0 for s in result.signals)
    assert {s.name: s.value for s in result.signals}["engagement_vs_benchmark"] is None


def test_posting_consistency_needs_two_gaps():
    assert posting_consistency([post(1, days=0), post(1, days=3)]) is None


# --- content -----------------------------------------------------------------------------


CONTENT_POSTS = [
    post(1, days=3, hashtags=["NYC", "travel"], caption="Sunset #nyc #Food with @Nike_Official and @friend."),
    post(1, days=2, hashtags=["nyc"], mentions=["adidas"], caption="#ad new shoes from @adidas"),
    post(1, days=1, hashtags=["#Travel"], mentions=["@Friend"]),
]


def test_top_hashtags_count_posts_case_insensitively():
    # nyc: post 1 (NYC and #nyc count once) + post 2 = 2; travel: posts 1 and 3 = 2; ad 1; food 1
    assert [(t.tag, t.count) for t in top_hashtags(CONTENT_POSTS)] == [
        ("nyc", 2),
        ("travel", 2),
        ("ad", 1),
        ("food", 1),
    ]
    assert [t.tag for t in top_hashtags(CONTENT_POSTS, n=1)] == ["nyc"]


def test_top_mentions():
    # friend: posts 1 and 3; adidas: post 2 (field and caption count once); nike_official: post 1
    assert [(t.tag, t.count) for t in top_mentions(CONTENT_POSTS)] == [
        ("friend", 2),
        ("adidas", 1),
        ("nike_official", 1),
    ]


def test_brand_mentions_from_sponsored_posts_and_brand_like_handles():
    found = brand_mentions(CONTENT_POSTS)
    assert [(b.username, b.count, b.sponsored_posts, b.reasons) for b in found] == [
        ("adidas", 1, 1, ["mentioned_in_sponsored_post"]),
        ("nike_official", 1, 0, ["brand_like_handle"]),
    ]
    assert brand_mentions([]) == []


@pytest.mark.parametrize(
    ("handle", "expected"),
    [("zaraofficial", True), ("nike.store", True), ("the_co", True), ("shopbop", True), ("glossier", False),
     ("coco", False), ("friend", False)],
)  # fmt: skip
def test_looks_like_brand(handle, expected):
    assert looks_like_brand(handle) is expected
