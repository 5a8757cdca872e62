"""Turn untrusted image bytes into a small WebP rendition with Pillow.

Decompression bombs are refused before any pixel is decoded: Pillow reads only the header
on ``open``, and anything over ``Image.MAX_IMAGE_PIXELS`` (the range where Pillow would
merely warn as well as the range where it raises) is a permanent failure. We check the
size ourselves rather than turning the warning into an error with ``warnings`` filters,
because filters are process-wide and renditions are made in several threads at once.
"""

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from cdn.errors import PermanentImageError

WEBP_QUALITY = 80
# libwebp's effort 0 (fastest) .. 6 (smallest). Measured on 640 px photos: 2 encodes in
# about half the time of the default 4 for files about 5% larger, a good trade when a
# creator's 13 images are made while the user waits.
WEBP_METHOD = 2
FORMAT = "webp"

# The formats image hosts serve. Pillow can open dozens more, some through outside programs
# (EPS runs Ghostscript); untrusted bytes are only ever parsed by these decoders. JPEG
# includes MPO (multi-picture JPEGs from phones).
ALLOWED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "AVIF", "BMP", "TIFF")

# Everything Pillow raises for a corrupt, truncated or unsupported file.
_DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, TypeError, IndexError, EOFError)


@dataclass(frozen=True)
class Rendition:
    content: bytes
    width: int
    height: int
    format: str = FORMAT


def render_webp(data: bytes, *, max_side: int) -> Rendition:
    """Decode ``data``, orient it, shrink its long side to ``max_side`` (never enlarge), encode WebP."""
    _verify(data)
    try:
        with Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as image:
            _check_pixels(image)
            # JPEG can decode straight at 1/2, 1/4 or 1/8 scale: far faster for big photos.
            # draft() keeps both sides >= the request, so the resize below stays exact.
            image.draft("RGB", (max_side, max_side))
            image.load()
            icc_profile = image.info.get("icc_profile")
            oriented = ImageOps.exif_transpose(image)
            converted = _convert_mode(oriented)
            converted.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            save_kwargs = {"quality": WEBP_QUALITY, "method": WEBP_METHOD}
            if icc_profile:
                save_kwargs["icc_profile"] = icc_profile
            converted.save(out, format="WEBP", **save_kwargs)
            width, height = converted.size
    except Image.DecompressionBombError as exc:
        raise PermanentImageError(f"Decompression bomb refused: {exc}", code="decompression_bomb") from exc
    except PermanentImageError:
        raise
    except _DECODE_ERRORS as exc:
        raise PermanentImageError(f"Image cannot be decoded: {exc}", code="not_an_image") from exc
    return Rendition(content=out.getvalue(), width=width, height=height)


def _verify(data: bytes) -> None:
    # verify() checks the file's structure without decoding pixels; the image cannot be used
    # afterwards, hence the second open in render_webp.
    try:
        with Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as image:
            _check_pixels(image)
            image.verify()
    except Image.DecompressionBombError as exc:
        raise PermanentImageError(f"Decompression bomb refused: {exc}", code="decompression_bomb") from exc
    except PermanentImageError:
        raise
    except _DECODE_ERRORS as exc:
        raise PermanentImageError(f"Not an image: {exc}", code="not_an_image") from exc


def _check_pixels(image: Image.Image) -> None:
    limit = Image.MAX_IMAGE_PIXELS
    width, height = image.size
    if limit is not None and width * height > limit:
        raise PermanentImageError(
            f"Image of {width}x{height} pixels exceeds the {limit}-pixel limit.", code="decompression_bomb"
        )


def _convert_mode(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the image has any transparency (WebP keeps an alpha channel)."""
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode in ("P", "L", "RGB", "1") and "transparency" in image.info
    )
    if has_alpha:
        return image if image.mode == "RGBA" else image.convert("RGBA")
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16/32-bit greyscale: scale to 8 bits first, a bare convert("RGB") would clip to white.
        return image.point(lambda value: value * (1 / 256)).convert("L").convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")
