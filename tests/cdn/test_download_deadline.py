"""Issue 15 #8: a slow-drip image source cannot outlive the download deadline.

Before the fix the read timeout bounded each socket read only, and the body deadline was
checked between 64 KiB chunks: a source sending one byte every 0.2 s (in its headers or its
body) kept a worker busy for hours. Now ``CDN_DOWNLOAD_DEADLINE`` bounds the whole download.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from cdn.download import download_image
from cdn.errors import TransientImageError
from tests.cdn.conftest import Reply, png_bytes

pytestmark = pytest.mark.usefixtures("cdn_settings")


class DripServer:
    """Answers every connection by writing ``payload`` one byte per ``interval`` seconds."""

    def __init__(self, payload: bytes, *, instant: bytes = b"", interval: float = 0.2) -> None:
        self.payload, self.instant, self.interval = payload, instant, interval
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/slow.png"

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            conn.sendall(self.instant)
            for byte in self.payload:
                if self.stop.is_set():
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return  # the client gave up: what the deadline is for
                time.sleep(self.interval)

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def deadline(settings):
    settings.CDN_ALLOW_PRIVATE_SOURCES = True
    settings.CDN_READ_TIMEOUT = 5  # every single read is quick: only the total can stop a drip
    settings.CDN_DOWNLOAD_DEADLINE = 1.0
    return settings


def _head(length: int) -> bytes:
    return f"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {length}\r\n\r\n".encode()


@pytest.mark.parametrize("where", ["body", "headers"])
def test_a_slow_drip_ends_at_the_deadline(deadline, where):
    image = png_bytes(20, 20)
    if where == "body":  # headers at once, then the body a byte at a time
        server = DripServer(image, instant=_head(len(image)))
    else:  # even the status line and headers drip
        server = DripServer(_head(len(image)) + image)
    started = time.monotonic()
    try:
        with pytest.raises(TransientImageError) as caught:
            download_image(server.url)
    finally:
        server.close()
    elapsed = time.monotonic() - started
    assert caught.value.code == "timeout"
    assert elapsed < 3, f"the download lasted {elapsed:.1f} s, the deadline is 1 s"


def test_a_quick_source_is_not_affected(deadline, image_host):
    url = image_host.route("/ok.png", Reply(body=png_bytes(20, 20)))
    assert download_image(url).content
