"""Fixtures for pipeline tests: a local image host and the real Apify export pointed at it.

These machines cannot reach Instagram's CDN (and its URLs expire within days), so the
export's image URLs are rewritten to a local HTTP server that answers with real JPEGs. The
server counts requests and can be switched to answer 503, as a host that is down.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image

# A copy of ../shared/data/apify/humansofny-details.json, so a clone anywhere has it.
REAL_EXPORT = Path(__file__).resolve().parent / "fixtures" / "apify" / "humansofny-details.json"
_INSTAGRAM_CDN = re.compile(r"https://scontent[^/\"]*\.cdninstagram\.com/")


def _jpeg_for(path: str) -> bytes:
    seed = hashlib.sha256(path.encode()).digest()
    image = Image.new("RGB", (1080, 1350), tuple(seed[:3]))
    image.paste(tuple(seed[3:6]), (100, 100, 980, 1250))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


class ImageHost:
    """A local image host: ``url(path)``, ``hits``, ``down`` (answer 503 when true)."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.down = False
        self.delay = 0.0  # seconds before each answer (a slow host)
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host.hits[self.path] = host.hits.get(self.path, 0) + 1
                if host.delay:
                    threading.Event().wait(host.delay)
                if host.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                body = _jpeg_for(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/cdn/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def total_hits(self) -> int:
        return sum(self.hits.values())

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def image_host():
    host = ImageHost()
    yield host
    host.close()


def write_export(directory: Path, image_base: str, source: Path = REAL_EXPORT) -> Path:
    """Copy ``source`` into ``directory`` with its Instagram image URLs pointed at ``image_base``."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / source.name
    target.write_text(_INSTAGRAM_CDN.sub(image_base, source.read_text(encoding="utf-8")), encoding="utf-8")
    return target


@pytest.fixture
def pipeline_settings(settings, tmp_path, image_host):
    """Dataset provider on the real export, images from the local host, media in tmp."""
    dataset = tmp_path / "dataset"
    write_export(dataset, image_host.base)
    settings.SCRAPER_PROVIDER = "dataset"
    settings.SCRAPER_DATASET_DIR = dataset
    settings.CDN_ALLOW_PRIVATE_SOURCES = True
    settings.CDN_BASE_URL = "https://cdn.example.test"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.AI_ENGINE = "rules"
    settings.PIPELINE_EAGER_THREAD = False
    settings.CELERY_TASK_ALWAYS_EAGER = True
    yield settings
    shutil.rmtree(tmp_path / "media", ignore_errors=True)


def real_export() -> dict:
    return json.loads(REAL_EXPORT.read_text(encoding="utf-8"))[0]


@pytest.fixture
def analysed(pipeline_settings, django_capture_on_commit_callbacks):
    """@humansofny through the whole pipeline (real export, local images), complete."""
    from analysis import services as analysis_services
    from analysis.models import AnalysisJob
    from profiles.models import Profile

    with django_capture_on_commit_callbacks(execute=True):
        analysis_services.job_start(username="humansofny")
    assert AnalysisJob.objects.get().status == "completed"
    return Profile.objects.get(username="humansofny")
