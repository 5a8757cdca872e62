"""Typed shapes: data out, data back in, and the serializer derived from the same description."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from hypothesis import given
from hypothesis import strategies as st
from rest_framework import serializers

from config.api.shapes import MediaURLField, serializer_for
from config.shapes import described, from_data, to_data


@dataclass(frozen=True)
class Leaf:
    tag: str
    count: int


@dataclass(frozen=True)
class Tree:
    id: UUID
    when: datetime | None
    day: date
    ratio: float | None
    leaves: list[Leaf]
    shares: dict[str, float]
    extra: Any
    link: str | None = described("Where it lives.", url=True)
    kind: str = described(choices=["a", "b"])
    flags: list[bool] = described()


def _tree(**overrides: Any) -> Tree:
    values = dict(
        id=uuid4(), when=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), day=date(2026, 1, 2), ratio=0.5,
        leaves=[Leaf("x", 1), Leaf("y", 2)], shares={"en": 0.75}, extra={"any": [1, None]},
        link="https://example.com/a", kind="a", flags=[True, False],
    )  # fmt: skip
    return Tree(**{**values, **overrides})


def test_to_data_is_json_ready_and_from_data_reads_it_back():
    tree = _tree()
    data = to_data(tree)
    assert data["id"] == str(tree.id) and data["when"] == "2026-01-02T03:04:05+00:00" and data["day"] == "2026-01-02"
    assert data["leaves"] == [{"tag": "x", "count": 1}, {"tag": "y", "count": 2}]
    assert list(data) == ["id", "when", "day", "ratio", "leaves", "shares", "extra", "link", "kind", "flags"]
    assert from_data(Tree, data) == tree
    assert from_data(Tree, to_data(_tree(when=None, ratio=None, link=None))).when is None


@given(st.lists(st.tuples(st.text(max_size=5), st.integers()), max_size=5), st.floats(allow_nan=False) | st.none())
def test_round_trip_for_any_values(pairs, ratio):
    tree = _tree(leaves=[Leaf(tag, count) for tag, count in pairs], ratio=ratio)
    assert from_data(Tree, to_data(tree)) == tree


def test_the_serializer_is_derived_from_the_shape():
    serializer = serializer_for(Tree)
    assert serializer is serializer_for(Tree)  # one serializer (one schema component) per shape
    assert serializer.__name__ == "TreeSerializer"
    fields = serializer().fields
    assert list(fields) == ["id", "when", "day", "ratio", "leaves", "shares", "extra", "link", "kind", "flags"]
    assert isinstance(fields["id"], serializers.UUIDField)
    assert isinstance(fields["when"], serializers.DateTimeField) and fields["when"].allow_null
    assert isinstance(fields["day"], serializers.DateField) and not fields["day"].allow_null
    assert isinstance(fields["leaves"], serializers.ListSerializer)
    assert type(fields["leaves"].child).__name__ == "LeafSerializer"
    assert isinstance(fields["shares"], serializers.DictField)
    assert isinstance(fields["shares"].child, serializers.FloatField)
    assert isinstance(fields["link"], MediaURLField) and fields["link"].help_text == "Where it lives."
    assert isinstance(fields["kind"], serializers.ChoiceField) and list(fields["kind"].choices) == ["a", "b"]
    assert isinstance(fields["flags"].child, serializers.BooleanField)
    assert "ratio" not in serializer_for(Tree, exclude=("ratio",), name="TreeLite")().fields
    assert serializer(data=to_data(_tree())).is_valid()
    bad = to_data(_tree())
    bad["kind"] = "c"
    checked = serializer(data=bad)
    assert not checked.is_valid() and set(checked.errors) == {"kind"}
