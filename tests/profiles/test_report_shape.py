"""One description of the report: the builder, the schema and the export columns agree."""

from __future__ import annotations

import dataclasses
import typing

import pytest
from drf_spectacular.generators import SchemaGenerator

from config.shapes import from_data, optional_inner, shape_hints, to_data
from profiles.api import serializers as s
from profiles.export_formats import POST_COLUMNS, PROFILE_COLUMNS, post_rows, profile_row
from profiles.selectors.report import report_build, report_get, report_typed_get
from profiles.selectors.report_types import Report

pytestmark = pytest.mark.django_db


def _paths(cls: type, prefix: str = "") -> set[str]:
    """Every field path of a shape (nested shapes and lists of shapes walked)."""
    paths = set()
    for name, hint in shape_hints(cls).items():
        paths.add(prefix + name)
        inner, _ = optional_inner(hint)
        if typing.get_origin(inner) is list:
            (inner,) = typing.get_args(inner)
        if dataclasses.is_dataclass(inner):
            paths |= _paths(inner, f"{prefix}{name}.")
    return paths


def _data_paths(data: dict, prefix: str = "") -> set[str]:
    paths = set()
    for key, value in data.items():
        paths.add(prefix + key)
        if isinstance(value, list) and value and isinstance(value[0], dict):
            value = value[0]
        if isinstance(value, dict) and key not in ("criteria", "category_distribution", "language_distribution"):
            paths |= _data_paths(value, f"{prefix}{key}.")
    return paths


def test_the_built_report_reads_back_into_its_type_from_the_cache(analysed):
    built = report_build(profile=analysed)
    assert isinstance(built, Report) and len(built.posts) == 12
    cached = report_typed_get(profile_id=analysed.pk)
    assert cached == from_data(Report, to_data(built))
    assert cached.engagement.engagement_rate == report_get(profile_id=analysed.pk)["engagement"]["engagement_rate"]


def test_every_field_the_api_sends_is_in_the_shape_and_the_serializer_validates_it(analysed):
    data = report_get(profile_id=analysed.pk)
    sent = _data_paths(data)
    described = _paths(Report)
    assert sent <= described, sent - described  # nothing sent that the schema does not document
    assert s.ReportSerializer(data=data).is_valid()
    # A field the old hand-written serializers forgot is documented now that both come from the shape.
    assert "engagement.comment_to_like_ratio" in sent


def test_the_schema_components_are_the_shapes():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    for name in ("Report", "ReportWithoutPosts", "Overview", "Engagement", "Content", "ReportPost", "TimeSlot"):
        assert name in components, name
    assert list(components["Engagement"]["properties"]) == list(shape_hints(Report)["engagement"].__dataclass_fields__)
    assert components["TimeSlot"]["properties"]["key"]["description"].startswith("Weekday")
    assert "posts" not in components["ReportWithoutPosts"]["properties"]


def test_the_export_columns_read_the_typed_report(analysed):
    report = report_typed_get(profile_id=analysed.pk)
    row = profile_row(report)
    assert list(row) == [column.name for column in PROFILE_COLUMNS]
    assert row["username"] == "humansofny" and row["engagement_rate"] == report.engagement.engagement_rate
    assert row["last_refreshed_at"] == report.overview.last_refreshed_at.isoformat()
    assert row["top_hashtags"].startswith("#") or row["top_hashtags"] == ""
    posts = post_rows(report)
    assert len(posts) == 12 and list(posts[0]) == [column.name for column in POST_COLUMNS]
    assert posts[0]["shortcode"] == report.posts[0].shortcode and posts[0]["ai_category"] == report.posts[0].ai.category
