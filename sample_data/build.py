"""Regenerate the bundled sample dataset from the real Apify exports.

    .venv/bin/python sample_data/build.py [SOURCE_DIR]   # default: /work/shared/data/apify

For every export in SOURCE_DIR named in ``EXPORTS`` it writes ``sample_data/<same name>``: the
export unchanged except that every image reference (profile pictures, post and child-post
display URLs, carousel ``images``, related profiles' pictures) is rewritten to a relative path
of a generated placeholder JPEG under ``sample_data/images/``. Instagram's CDN URLs expire and
cannot be reached offline; the placeholders let ``make run`` show complete creators anyway.
A post without ``id`` and ``shortCode`` (the trimmed gooper export) first gets the id the
normaliser derives from its original image URL (``post_id_from_image``: Instagram's media id
from ``ig_cache_key``, else a hash of the image path), since the placeholder path no longer
carries it. The output is committed; run this again only when a source export changes.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HERE = Path(__file__).resolve().parent
IMAGES = HERE / "images"
DEFAULT_SOURCE = Path("/work/shared/data/apify")
# Source exports (glob patterns in SOURCE_DIR) and the size of their post placeholders: the
# 45 small creators' 225 posts get smaller pictures to keep the repository light.
EXPORTS = {"*-details.json": 640, "gooper-45-creators.json": 320}


def _post_id_from_image():
    """The normaliser's id rule (profiles.providers.normalize), which needs Django set up."""
    import os

    import django

    sys.path.insert(0, str(HERE.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    django.setup()
    from profiles.providers.normalize import post_id_from_image

    return post_id_from_image


def placeholder(path: Path, label: str, size: int) -> None:
    """A deterministic abstract picture with its label and the word PLACEHOLDER on it."""
    digest = hashlib.sha256(label.encode()).digest()
    top, bottom = tuple(digest[0:3]), tuple(digest[3:6])
    image = Image.new("RGB", (size, size))
    draw = ImageDraw.Draw(image)
    for y in range(size):
        mix = y / max(size - 1, 1)
        draw.line([(0, y), (size, y)], fill=tuple(int(a + (b - a) * mix) for a, b in zip(top, bottom, strict=True)))
    for i in range(4):
        x, y, r = (
            digest[6 + 3 * i] * size // 256,
            digest[7 + 3 * i] * size // 256,
            10 + digest[8 + 3 * i] * size // 900,
        )
        draw.ellipse([x - r, y - r, x + r, y + r], fill=tuple(digest[20 + i : 23 + i]), outline=(255, 255, 255))
    font = ImageFont.load_default(size=max(size // 14, 10))
    small = ImageFont.load_default(size=max(size // 22, 8))
    draw.rectangle([0, size * 0.40, size, size * 0.62], fill=(0, 0, 0))
    draw.text((size / 2, size * 0.47), label, font=font, fill=(255, 255, 255), anchor="mm")
    draw.text((size / 2, size * 0.56), "PLACEHOLDER", font=small, fill=(255, 220, 0), anchor="mm")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "JPEG", quality=80, optimize=True)


class Rewriter:
    def __init__(self) -> None:
        self.paths: dict[str, str] = {}  # original URL -> relative path (one file per image)

    def __call__(self, url: str | None, name: str, label: str, size: int) -> str | None:
        if not url:
            return url
        if url not in self.paths:
            relative = f"images/{name}.jpg"
            placeholder(HERE / relative, label, size)
            self.paths[url] = relative
        return self.paths[url]


def rewrite_profile(item: dict, rewrite: Rewriter, size: int = 640, post_id=None) -> None:
    username = item.get("username", "profile")
    avatar = f"avatar-{username}"
    for key in ("profilePicUrlHD", "profilePicUrl"):
        # Both sizes get the same name, so one file.
        item[key] = rewrite(item.get(key), avatar, f"@{username}", 320)
    for post in item.get("latestPosts") or []:
        if not (post.get("shortCode") or post.get("id")) and post_id is not None and post.get("displayUrl"):
            post["id"] = post_id(post["displayUrl"])
        code = post.get("shortCode") or post.get("id")
        post["displayUrl"] = rewrite(post.get("displayUrl"), code, code, size)
        for child in post.get("childPosts") or []:
            child_code = child.get("shortCode") or child.get("id")
            child["displayUrl"] = rewrite(child.get("displayUrl"), child_code, child_code, size)
        if "images" in post:
            post["images"] = [
                rewrite(url, f"{code}-{index}", f"{code} #{index}", size)
                for index, url in enumerate(post.get("images") or [])
            ]
    for related in item.get("relatedProfiles") or []:
        name = related.get("username", "related")
        related["profile_pic_url"] = rewrite(related.get("profile_pic_url"), f"related/{name}", f"@{name}", 150)


def main(source: Path) -> None:
    post_id = _post_id_from_image()
    for pattern, size in EXPORTS.items():
        for export in sorted(source.glob(pattern)):
            _build(export, size, post_id)


def _build(export: Path, size: int, post_id) -> None:
    data = json.loads(export.read_text(encoding="utf-8"))
    rewrite = Rewriter()
    for item in data:
        rewrite_profile(item, rewrite, size, post_id)
    target = HERE / export.name
    target.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"{target.relative_to(HERE.parent)}: {len(data)} profiles, {len(set(rewrite.paths.values()))} images")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE)
