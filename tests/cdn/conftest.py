"""Fixtures for the cdn tests: a real local HTTP image host, sample images, an upload counter."""

import io
import socket
import struct
import threading
import time
import zlib
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.files.storage import FileSystemStorage
from PIL import Image


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "image/png"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line
    send_length: bool = True


class ImageHost:
    """A threaded HTTP server whose routes answer a list of replies in turn (the last one sticks)."""

    def __init__(self, port: int = 0):
        self.routes: dict[str, list[Reply]] = {}
        self.hits: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests served at the same time
        self._lock = threading.Lock()
        host = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                path = self.path.split("?", 1)[0]
                with host._lock:
                    host.hits[path] += 1
                    replies = host.routes.get(path)
                    reply = (replies.pop(0) if len(replies) > 1 else replies[0]) if replies else Reply(status=404)
                    host.in_flight += 1
                    host.max_in_flight = max(host.max_in_flight, host.in_flight)
                try:
                    self._reply(reply)
                finally:
                    with host._lock:
                        host.in_flight -= 1

            def _reply(self, reply: Reply):
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", reply.content_type)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    if reply.send_length:
                        self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    for start in range(0, len(reply.body), 65536):
                        self.wfile.write(reply.body[start : start + 65536])
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up early, as it should for over-size bodies

            def log_message(self, format, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def route(self, path: str, *replies: Reply) -> str:
        self.routes[path] = list(replies)
        return self.url(path)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def cdn_settings(settings, tmp_path):
    settings.CDN_ALLOW_PRIVATE_SOURCES = True
    settings.CDN_BASE_URL = ""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.MEDIA_URL = "/media/"
    settings.CDN_LOCAL_SOURCE_ROOTS = [str(tmp_path / "dataset")]
    settings.CDN_CONNECT_TIMEOUT = 2.0
    settings.CDN_READ_TIMEOUT = 2.0
    settings.CDN_MAX_ATTEMPTS = 3
    settings.CDN_MAX_BYTES = 15 * 1024 * 1024
    settings.CDN_THUMBNAIL_SIZE = 640
    settings.CDN_AVATAR_SIZE = 320
    (tmp_path / "dataset").mkdir()
    return settings


@pytest.fixture
def image_host():
    host = ImageHost()
    yield host
    host.stop()


@pytest.fixture
def uploads(monkeypatch):
    """Counts files written to the file-system storage."""
    saved: list[str] = []
    original = FileSystemStorage._save

    def counting_save(self, name, content):
        saved.append(name)
        return original(self, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", counting_save)
    return saved


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def png_bytes(width: int, height: int, *, mode: str = "RGB", color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), color).save(out, format="PNG")
    return out.getvalue()


def two_tone_jpeg_with_orientation(width: int, height: int, orientation: int) -> bytes:
    """Left half red, right half blue, with an EXIF Orientation tag."""
    image = Image.new("RGB", (width, height), (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, width // 2, height))
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=95, exif=exif.tobytes())
    return out.getvalue()


def half_transparent_png(width: int, height: int) -> bytes:
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    image.paste((0, 200, 0, 255), (width // 2, 0, width, height))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )
