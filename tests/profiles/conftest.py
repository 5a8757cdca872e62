"""Fixtures for the profiles tests: the real Apify export and a fake Apify HTTP server."""

from __future__ import annotations

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

REAL_EXPORT = Path(__file__).resolve().parents[1] / "fixtures" / "apify" / "humansofny-details.json"
SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_data"

_real_cache: list = []


def load_real_export() -> list[dict]:
    if not _real_cache:
        _real_cache.append(json.loads(REAL_EXPORT.read_text(encoding="utf-8")))
    return copy.deepcopy(_real_cache[0])


@pytest.fixture
def real_export() -> list[dict]:
    """A fresh deep copy of the real details export (a list with one profile)."""
    return load_real_export()


class FakeApify:
    """An HTTP server answering like Apify's run-sync-get-dataset-items, from a script.

    ``responses`` is a list of (status, body, headers); the last one repeats. Every request
    is recorded (path, query, JSON body).
    """

    def __init__(self) -> None:
        self.responses: list[tuple[int, object, dict]] = [(200, [], {})]
        self.requests: list[dict] = []
        self.delay = 0.0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                index = min(len(fake.requests), len(fake.responses) - 1)
                fake.requests.append({"path": self.path, "body": body})
                status, payload, headers = fake.responses[index]
                if fake.delay:
                    threading.Event().wait(fake.delay)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def script(self, *responses: tuple) -> None:
        self.responses = [(r[0], r[1], r[2] if len(r) > 2 else {}) for r in responses]
        self.requests.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_apify(settings):
    fake = FakeApify()
    settings.SCRAPER_PROVIDER = "apify"
    settings.APIFY_BASE_URL = fake.base_url
    settings.APIFY_TOKEN = "test-token"
    settings.APIFY_ACTOR_ID = "apify~instagram-scraper"
    settings.SCRAPER_CONNECT_TIMEOUT = 2.0
    settings.SCRAPER_READ_TIMEOUT = 5.0
    settings.SCRAPER_BREAKER_THRESHOLD = 5
    settings.SCRAPER_BREAKER_RESET_SECONDS = 60.0
    yield fake
    fake.close()
